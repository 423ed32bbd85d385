#include "bridge/rate_limiter.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(RateLimiter, AllowsABurstOfOneSecondThenRefillsOverTime) {
  RateLimiter limiter(5);
  const int64_t t0 = 10 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Admit(t0), RateLimiter::Verdict::kAllow);
  EXPECT_EQ(limiter.Admit(t0), RateLimiter::Verdict::kReject);
  EXPECT_EQ(limiter.Admit(t0), RateLimiter::Verdict::kRejectQuiet);
  EXPECT_EQ(limiter.Admit(t0 + kSecond / 5), RateLimiter::Verdict::kAllow);
}

TEST(RateLimiter, FloodingAtTwiceTheLimitIsAFlood) {
  RateLimiter limiter(5);
  const int64_t t0 = 10 * kSecond;
  RateLimiter::Verdict last = RateLimiter::Verdict::kAllow;
  for (int i = 0; i < 11; ++i) last = limiter.Admit(t0);
  EXPECT_EQ(last, RateLimiter::Verdict::kFlood);
}

TEST(RateLimiter, SteadyTrafficAtTheLimitIsAllowed) {
  RateLimiter limiter(10);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.Admit(kSecond + i * kSecond / 10), RateLimiter::Verdict::kAllow) << i;
  }
}

}  // namespace
}  // namespace physics::bridge
