#include "engine/physics/huge_page_memory.h"

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/physics/vector.h"
#include "engine/physics/window.h"

namespace physics {
namespace {

TEST(HugePageResource, HandsOutWholeAlignedHugePagesThatCanBeWritten) {
  HugePageResource pages;
  void* p = pages.allocate(3 << 20, alignof(double));  // rounds up to two pages
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % HugePageResource::kPageBytes, 0u);
  auto* bytes = static_cast<unsigned char*>(p);
  bytes[0] = 1;
  bytes[(4 << 20) - 1] = 2;  // the rounded-up end is mapped too
  EXPECT_EQ(bytes[0] + bytes[(4 << 20) - 1], 3);
  pages.deallocate(p, 3 << 20, alignof(double));
}

// 300 windows of 1 000 (~12 MB, several of the arena's growing mappings)
// fed the same random walk as a window on the default heap give the same
// vectors, bit for bit.
TEST(HugePageArena, WindowsOnItComputeExactlyWhatHeapWindowsDo) {
  constexpr size_t kCapacity = 1000;
  const Calculator calc(kCapacity);
  HugePageArena arena;
  std::vector<std::unique_ptr<Window>> windows;
  for (int i = 0; i < 300; ++i) windows.push_back(std::make_unique<Window>(kCapacity, &arena));
  Window heap(kCapacity);
  std::mt19937_64 rng(7);
  std::student_t_distribution<double> step(3.0);
  double price = 100;
  for (int t = 0; t < 1500; ++t) {
    price *= std::exp(0.001 * step(rng));
    const Observation obs{price, 10.0 + t % 7, 1.0 + t % 3};
    heap.Push(obs);
    for (auto& w : windows) w->Push(obs);
  }
  const PhysicsVector want = calc.Compute(heap);
  for (const auto& w : windows) {
    const PhysicsVector got = calc.Compute(*w);
    ASSERT_EQ(got.mass, want.mass);
    ASSERT_EQ(got.momentum, want.momentum);
    ASSERT_EQ(got.entropy, want.entropy);
    ASSERT_EQ(got.nash_dist, want.nash_dist);
    ASSERT_EQ(got.alpha, want.alpha);
    ASSERT_EQ(got.regime, want.regime);
  }
  EXPECT_NE(want.nash_dist, 0.0);
}

}  // namespace
}  // namespace physics
