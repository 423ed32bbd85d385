// Hot paths of the engine without Redis: encoding a state and an event, the
// simulator, and a whole loop tick's fold + compute + encode for N symbols.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/sample_state.h"
#include "engine/feed/sim_feed.h"
#include "engine/loop/symbol_book.h"
#include "engine/schema/state_message.h"

namespace physics {
namespace {

constexpr schema::EpochMicros kNoon = 1766318400LL * 1'000'000;

void BM_EncodeState(benchmark::State& state) {
  const schema::StateFields fields = bench::SampleState();
  std::string out;
  out.reserve(512);
  for (auto _ : state) {
    out.clear();
    schema::AppendStateJson(fields, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodeState);

void BM_EncodeEvent(benchmark::State& state) {
  std::string json;
  schema::AppendStateJson(bench::SampleState(), json);
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    schema::AppendEventJson("SPY", "2025-12-21T12:00:00.124950Z", 555, "4.390606600595609", json, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodeEvent);

// Sink that only counts, to time the simulator alone.
class CountingSink : public feed::TickSink {
 public:
  void Accept(const schema::Tick&) override { ++ticks; }
  void Reject(const feed::TickOrigin&, const absl::Status&) override {}
  int64_t ticks = 0;
};

void BM_SimBurst(benchmark::State& state) {
  feed::SimFeed sim(feed::DefaultSymbols(static_cast<size_t>(state.range(0))), 42);
  CountingSink sink;
  int64_t i = 0;
  for (auto _ : state) sim.GenerateBurst(kNoon + ++i, sink);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SimBurst)->Arg(1000);

// One loop tick: the fold of a sim burst, then compute + encode per symbol.
void LoopTick(feed::SimFeed& sim, loop::SymbolBook& book, schema::EpochMicros ts) {
  sim.GenerateBurst(ts, book);
  benchmark::DoNotOptimize(book.CloseTick());
  book.MarkAllWritten();
}

// The book after 1 000 loop ticks (every window full at W = 1000); returns
// the next tick's timestamp offset.
int64_t FillWindows(feed::SimFeed& sim, loop::SymbolBook& book) {
  int64_t i = 0;
  for (; i < 1000; ++i) LoopTick(sim, book, kNoon + i);
  return i;
}

// One loop tick with every window already full (W = 1000). Items are symbol
// updates.
void BM_LoopTick(benchmark::State& state) {
  const size_t symbols = static_cast<size_t>(state.range(0));
  feed::SimFeed sim(feed::DefaultSymbols(symbols), 42);
  loop::SymbolBook book(1000, "");
  int64_t i = FillWindows(sim, book);
  for (auto _ : state) LoopTick(sim, book, kNoon + ++i);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LoopTick)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// BM_LoopTick as the engine meets it at 10 Hz: between two loop ticks Redis,
// the bridge and its clients run, so the windows are no longer in any cache.
// A 64 MB buffer is written between iterations (untimed) to evict them.
void BM_LoopTickCold(benchmark::State& state) {
  const size_t symbols = static_cast<size_t>(state.range(0));
  feed::SimFeed sim(feed::DefaultSymbols(symbols), 42);
  loop::SymbolBook book(1000, "");
  int64_t i = FillWindows(sim, book);
  std::vector<char> evict(64 << 20);
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t k = 0; k < evict.size(); k += 64) evict[k] = static_cast<char>(evict[k] + 1);
    benchmark::ClobberMemory();
    state.ResumeTiming();
    LoopTick(sim, book, kNoon + ++i);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LoopTickCold)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace physics
