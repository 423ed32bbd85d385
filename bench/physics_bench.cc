// Cost of one symbol update: Window::Push plus Calculator::Compute, over a
// sweep of window sizes, on a fat-tailed random walk (Student-t, 3 dof, with
// 2% jumps) like the simulator's. Targets: <= 2 us at W=1000, <= 10 us at
// W=10000 on one core.
#include <cmath>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/physics/vector.h"
#include "engine/physics/window.h"

namespace {

// A deterministic stream of observations long enough to cycle through
// without repeating a window's contents soon.
std::vector<physics::Observation> FatTailedWalk(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> body(3.0);
  std::normal_distribution<double> jump(0.0, 0.01);
  std::bernoulli_distribution jumps(0.02);
  std::uniform_int_distribution<int> size(1, 5000);
  std::vector<physics::Observation> out;
  out.reserve(count);
  double price = 450.0;
  for (size_t i = 0; i < count; ++i) {
    double r = 0.0005 * body(rng);
    if (jumps(rng)) r += jump(rng);
    price *= std::exp(r);
    out.push_back({std::round(price * 100.0) / 100.0, static_cast<double>(size(rng)),
                   static_cast<double>(1 + size(rng) % 40)});
  }
  return out;
}

void BM_PushAndCompute(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const std::vector<physics::Observation> feed = FatTailedWalk(capacity + 65536, 1);
  const physics::Calculator calc(capacity);
  physics::Window w(capacity);
  size_t next = 0;
  for (; next < capacity; ++next) w.Push(feed[next]);
  for (auto _ : state) {
    w.Push(feed[next]);
    physics::PhysicsVector v = calc.Compute(w);
    benchmark::DoNotOptimize(v);
    if (++next == feed.size()) next = capacity;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PushAndCompute)->Arg(100)->Arg(1000)->Arg(10000);

void BM_ComputeOnly(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const std::vector<physics::Observation> feed = FatTailedWalk(capacity, 2);
  const physics::Calculator calc(capacity);
  physics::Window w(capacity);
  for (const physics::Observation& o : feed) w.Push(o);
  for (auto _ : state) {
    physics::PhysicsVector v = calc.Compute(w);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ComputeOnly)->Arg(100)->Arg(1000)->Arg(10000);

void BM_PushOnly(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  const std::vector<physics::Observation> feed = FatTailedWalk(capacity + 65536, 3);
  physics::Window w(capacity);
  size_t next = 0;
  for (; next < capacity; ++next) w.Push(feed[next]);
  for (auto _ : state) {
    w.Push(feed[next]);
    benchmark::DoNotOptimize(w.sorted_prices().data());
    if (++next == feed.size()) next = capacity;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PushOnly)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace
