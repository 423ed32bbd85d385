#include "engine/log/throttle.h"

#include "gtest/gtest.h"

namespace physics::log {
namespace {

// Steady time `ns` nanoseconds after the clock's epoch.
std::chrono::steady_clock::time_point At(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

constexpr int64_t kSecond = 1'000'000'000;

TEST(Throttle, AdmitsUpToTheCapEachSecondThenHoldsBack) {
  Throttle throttle(2);
  int64_t held_back = -1;
  EXPECT_TRUE(throttle.Admit(At(5 * kSecond), held_back));
  EXPECT_EQ(held_back, 0);
  EXPECT_TRUE(throttle.Admit(At(5 * kSecond + 1), held_back));
  EXPECT_FALSE(throttle.Admit(At(5 * kSecond + 2), held_back));
  EXPECT_FALSE(throttle.Admit(At(6 * kSecond - 1), held_back));
  EXPECT_EQ(held_back, 0);
}

TEST(Throttle, ReportsWhatItHeldBackOnceWhenALaterSecondStarts) {
  Throttle throttle(1);
  int64_t held_back = -1;
  EXPECT_TRUE(throttle.Admit(At(5 * kSecond), held_back));
  EXPECT_FALSE(throttle.Admit(At(5 * kSecond), held_back));
  EXPECT_FALSE(throttle.Admit(At(5 * kSecond), held_back));
  EXPECT_TRUE(throttle.Admit(At(9 * kSecond), held_back));
  EXPECT_EQ(held_back, 2);
  EXPECT_FALSE(throttle.Admit(At(9 * kSecond), held_back));
  EXPECT_EQ(held_back, 0);
}

}  // namespace
}  // namespace physics::log
