// Push and Compute must not allocate in steady state (STYLE hot path rule).
// This binary replaces the global operator new with one that counts.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include <gtest/gtest.h>

#include "engine/physics/vector.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

namespace {
void* CountedAlloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every replaceable form, so that no allocation pairs our free with a
// sanitizer's operator new.
void* operator new(std::size_t size) { return CountedAlloc(size); }
void* operator new[](std::size_t size) { return CountedAlloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace physics {
namespace {

TEST(NoAllocation, PushAndComputeAllocateNothingOnceConstructed) {
  constexpr size_t kWindow = 500;
  const Calculator calc(kWindow);
  Window w(kWindow);
  std::mt19937_64 rng(5);
  std::student_t_distribution<double> fat(1.5);
  double price = 100.0;
  double checksum = 0;
  const long before = g_allocations.load();
  for (int i = 0; i < 3000; ++i) {
    price *= std::exp(0.001 * fat(rng));
    w.Push({price, 10.0, 3.0});
    checksum += calc.Compute(w).entropy;
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_GT(checksum, 0.0);
}

}  // namespace
}  // namespace physics
