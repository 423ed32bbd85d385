#include "engine/redis/backoff.h"

#include "gtest/gtest.h"

namespace physics::redis {
namespace {

TEST(Backoff, DoublesFromHundredMillisecondsUpToFiveSeconds) {
  Backoff backoff;
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(200));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(400));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(800));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(1600));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(3200));
  EXPECT_EQ(backoff.Next(), absl::Seconds(5));
  EXPECT_EQ(backoff.Next(), absl::Seconds(5));
}

TEST(Backoff, ResetStartsOverAtInitial) {
  Backoff backoff(absl::Milliseconds(10), absl::Milliseconds(50));
  backoff.Next();
  backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(10));
}

TEST(Backoff, CapBelowInitialIsRaisedToInitial) {
  Backoff backoff(absl::Seconds(2), absl::Seconds(1));
  EXPECT_EQ(backoff.Next(), absl::Seconds(2));
  EXPECT_EQ(backoff.Next(), absl::Seconds(2));
}

TEST(Backoff, NonPositiveInitialBecomesOneMillisecond) {
  Backoff backoff(absl::ZeroDuration(), absl::Milliseconds(3));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(1));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(2));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(3));
}

TEST(ReconnectBackoff, OneServerKeepsTheDefaultCap) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://127.0.0.1:6379");
  ASSERT_TRUE(cfg.ok());
  Backoff backoff = ReconnectBackoff(*cfg);
  absl::Duration last;
  for (int i = 0; i < 20; ++i) last = backoff.Next();
  EXPECT_EQ(last, absl::Seconds(5));
}

TEST(ReconnectBackoff, SentinelsAreAskedAgainWithinTheShortCap) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-sentinel://127.0.0.1:26379#mymaster");
  ASSERT_TRUE(cfg.ok());
  Backoff backoff = ReconnectBackoff(*cfg);
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(200));
  for (int i = 0; i < 20; ++i) EXPECT_LE(backoff.Next(), kSentinelRetryCap);
}

TEST(ReconnectBackoff, AClusterIsAskedAgainWithinTheShortCap) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-cluster://127.0.0.1:7000,127.0.0.1:7001");
  ASSERT_TRUE(cfg.ok());
  Backoff backoff = ReconnectBackoff(*cfg);
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(100));
  for (int i = 0; i < 20; ++i) EXPECT_LE(backoff.Next(), kSentinelRetryCap);
}

}  // namespace
}  // namespace physics::redis
