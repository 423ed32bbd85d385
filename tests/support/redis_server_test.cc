#include "tests/support/redis_server.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace physics::testing {
namespace {

using ::testing::HasSubstr;

TEST(RedisServer, StartsOnAFreePortOtherThan6379) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.port(), 6379);
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.url(), "redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  absl::StatusOr<redis::Reply> pong = server.Run({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(std::string((*pong)->str), "PONG");
}

TEST(RedisServer, RunsWithoutPersistence) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<redis::Reply> save = server.Run({"CONFIG", "GET", "save"});
  ASSERT_TRUE(save.ok());
  ASSERT_EQ((*save)->elements, 2u);
  EXPECT_EQ(std::string((*save)->element[1]->str), "");
  absl::StatusOr<redis::Reply> aof = server.Run({"CONFIG", "GET", "appendonly"});
  ASSERT_TRUE(aof.ok());
  EXPECT_EQ(std::string((*aof)->element[1]->str), "no");
}

TEST(RedisServer, TwoServersGetDifferentPorts) {
  RedisServer a, b;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  EXPECT_NE(a.port(), b.port());
}

TEST(RedisServer, KillThenStartKeepsThePort) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const int port = server.port();
  server.Kill();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.Connect().status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.port(), port);
  EXPECT_TRUE(server.Run({"PING"}).ok());
}

TEST(RedisServer, RestartKeepsThePort) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const int port = server.port();
  ASSERT_TRUE(server.Restart().ok());
  EXPECT_EQ(server.port(), port);
  EXPECT_TRUE(server.Run({"PING"}).ok());
}

TEST(RedisServer, PasswordIsRequiredAndCarriedByConfig) {
  RedisServer server({.password = "secret"});
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(server.Run({"PING"}).ok());
  redis::Config cfg = server.config();
  cfg.password.clear();
  EXPECT_EQ(redis::Connection::Open(cfg, absl::Seconds(1), absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(RedisServer, ListensOnUnixSocketWhenAsked) {
  RedisServer server({.unix_socket = true});
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<redis::Connection> conn =
      redis::Connection::Open(server.unix_config(), absl::Seconds(1), absl::Seconds(1));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_TRUE(conn->Command({"PING"}).ok());
}

TEST(RedisServer, BadArgumentsFailStartWithTheServersMessage) {
  RedisServer server({.extra_args = {"--no-such-option", "1"}});
  absl::Status s = server.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no-such-option"));
  EXPECT_FALSE(server.running());
}

TEST(RedisServer, DestructorStopsTheServer) {
  int port = 0;
  {
    RedisServer server;
    ASSERT_TRUE(server.Start().ok());
    port = server.port();
  }
  redis::Config cfg;
  cfg.port = port;
  EXPECT_EQ(redis::Connection::Open(cfg, absl::Seconds(1), absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace physics::testing
