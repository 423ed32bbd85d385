#include "engine/physics/window.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace physics {
namespace {

Observation At(double price) { return {price, 1.0, 1.0}; }

std::vector<double> Sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<double> AsVector(std::span<const double> s) { return {s.begin(), s.end()}; }

TEST(Window, StartsEmptyWithItsCapacity) {
  Window w(5);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.capacity(), 5u);
  EXPECT_EQ(w.returns_size(), 0u);
}

TEST(Window, EvictsOldestWhenFull) {
  Window w(3);
  for (double p : {1.0, 2.0, 3.0, 4.0, 5.0}) w.Push(At(p));
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w.price(0), 3.0);
  EXPECT_EQ(w.price(1), 4.0);
  EXPECT_EQ(w.price(2), 5.0);
  EXPECT_EQ(AsVector(w.sorted_prices()), (std::vector<double>{3.0, 4.0, 5.0}));
  ASSERT_EQ(w.returns_size(), 2u);
  EXPECT_EQ(w.log_return(0), std::log(4.0 / 3.0));
  EXPECT_EQ(w.log_return(1), std::log(5.0 / 4.0));
}

TEST(Window, KeepsLatestObservationWhole) {
  Window w(4);
  w.Push({10.0, 5.0, 2.0});
  w.Push({11.0, 0.0, 7.0});
  EXPECT_EQ(w.latest().price, 11.0);
  EXPECT_EQ(w.latest().volume, 0.0);
  EXPECT_EQ(w.latest().trades, 7.0);
}

TEST(Window, CapacityOneKeepsOnlyTheLatestPriceAndNoReturns) {
  Window w(1);
  for (double p : {1.0, 2.0, 3.0}) w.Push(At(p));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.price(0), 3.0);
  EXPECT_EQ(w.returns_size(), 0u);
  EXPECT_EQ(AsVector(w.sorted_prices()), (std::vector<double>{3.0}));
}

// The incremental sorted views must always equal a fresh sort of the ring,
// through warm-up, wrap-around and many ties.
TEST(Window, SortedViewsEqualAFreshSortAfterEveryPush) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> tick(-3, 3);
  for (size_t capacity : {2u, 3u, 7u, 64u}) {
    Window w(capacity);
    double price = 100.0;
    for (int step = 0; step < 500; ++step) {
      price = std::max(1.0, price + 0.5 * tick(rng));
      w.Push(At(price));
      std::vector<double> prices, returns;
      for (size_t i = 0; i < w.size(); ++i) prices.push_back(w.price(i));
      for (size_t i = 0; i < w.returns_size(); ++i) returns.push_back(w.log_return(i));
      ASSERT_EQ(AsVector(w.sorted_prices()), Sorted(prices)) << "step " << step;
      ASSERT_EQ(AsVector(w.sorted_returns()), Sorted(returns)) << "step " << step;
      ASSERT_EQ(w.negative_returns(),
                static_cast<size_t>(std::ranges::count_if(returns, [](double r) { return r < 0; })));
      ASSERT_EQ(w.positive_returns(),
                static_cast<size_t>(std::ranges::count_if(returns, [](double r) { return r > 0; })));
    }
  }
}

TEST(Window, ReturnsAreLogRatiosOfConsecutivePrices) {
  Window w(4);
  for (double p : {10.0, 12.5, 11.0}) w.Push(At(p));
  ASSERT_EQ(w.returns_size(), 2u);
  EXPECT_EQ(w.log_return(0), std::log(12.5 / 10.0));
  EXPECT_EQ(w.log_return(1), std::log(11.0 / 12.5));
}

TEST(Window, PriceSumStaysWithinUlpsOfTheExactSum) {
  // Prices over nine decades make a plain running sum lose the small ones
  // between two resums (every capacity pushes).
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> decade(-3.0, 6.0);
  Window w(3000);
  for (int step = 0; step < 9000; ++step) {
    w.Push(At(std::pow(10.0, decade(rng))));
    if (step % 7 != 0) continue;  // keeps the O(n) reference affordable
    long double exact = 0;
    for (size_t i = 0; i < w.size(); ++i) exact += w.price(i);
    ASSERT_NEAR(w.price_sum(), static_cast<double>(exact), 1e-15 * static_cast<double>(exact))
        << "step " << step;
  }
}

TEST(Window, ClearForgetsEverythingButKeepsCapacity) {
  Window w(3);
  for (double p : {1.0, 2.0, 3.0, 4.0}) w.Push(At(p));
  w.Clear();
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.capacity(), 3u);
  w.Push(At(9.0));
  EXPECT_EQ(w.price(0), 9.0);
  EXPECT_EQ(w.price_sum(), 9.0);
  EXPECT_EQ(w.returns_size(), 0u);
}

TEST(Window, MovesWithoutLosingState) {
  Window a(3);
  for (double p : {1.0, 2.0}) a.Push(At(p));
  Window b = std::move(a);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.price(1), 2.0);
}

}  // namespace
}  // namespace physics
