#include "engine/redis/heartbeat.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace physics::redis {
namespace {

using Clock = Heartbeat::Clock;

TEST(Heartbeat, KeyIsNamespacedServiceAndId) {
  Config config;
  EXPECT_EQ(Heartbeat(config, "engine", "host-1").key(), "ops:hb:engine:host-1");
  config.key_namespace = "agentic";
  EXPECT_EQ(Heartbeat(config, "engine", "host-1").key(), "agentic:ops:hb:engine:host-1");
}

TEST(Heartbeat, IsDueAtFirstAndThenEveryPeriodAfterAWrite) {
  Heartbeat hb(Config{}, "engine", "x");
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(hb.Due(t0));
  hb.Written(t0);
  EXPECT_FALSE(hb.Due(t0 + Heartbeat::kPeriod - std::chrono::milliseconds(1)));
  EXPECT_TRUE(hb.Due(t0 + Heartbeat::kPeriod));
}

TEST(Heartbeat, StaysDueUntilWritten) {
  Heartbeat hb(Config{}, "engine", "x");
  const Clock::time_point t0 = Clock::now();
  Pipeline p;
  hb.Append(p);  // e.g. Redis was down and the pipeline failed: no Written()
  EXPECT_TRUE(hb.Due(t0 + std::chrono::seconds(1)));
}

TEST(Heartbeat, InstanceIdIsHostnameDashPid) {
  const std::string id = InstanceId();
  EXPECT_TRUE(id.ends_with(absl::StrCat("-", ::getpid()))) << id;
  EXPECT_GT(id.size(), absl::StrCat("-", ::getpid()).size());
}

TEST(Heartbeat, WritesOneWithATtlAndRemovesIt) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Heartbeat hb(server.config(), "engine", "t");
  Pipeline p;
  hb.Append(p);
  ASSERT_TRUE(p.Execute(*conn).ok());
  absl::StatusOr<Reply> value = conn->Command({"GET", "ops:hb:engine:t"});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(std::string((*value)->str, (*value)->len), "1");
  absl::StatusOr<Reply> ttl = conn->Command({"TTL", "ops:hb:engine:t"});
  EXPECT_GT((*ttl)->integer, 25);
  EXPECT_LE((*ttl)->integer, 30);
  hb.AppendRemove(p);
  ASSERT_TRUE(p.Execute(*conn).ok());
  EXPECT_EQ((*conn->Command({"EXISTS", "ops:hb:engine:t"}))->integer, 0);
}

TEST(Heartbeat, AShardWritesItsShareAsTheValue) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  Heartbeat(server.config(), "engine", "s", "shard 1/2").Append(p);
  ASSERT_TRUE(p.Execute(*conn).ok());
  absl::StatusOr<Reply> value = conn->Command({"GET", "ops:hb:engine:s"});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(ReplyText(value->get()), "shard 1/2");
}

}  // namespace
}  // namespace physics::redis
