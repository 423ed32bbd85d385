// REDIS_URL credentials against real redis-servers started with requirepass
// and with an ACL user (docs/SPEC.md §8): the engine writes with the right
// ones, and with wrong ones prints one line and exits 2; the bridge keeps
// retrying and reports the refusal in /healthz.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/http_client/http_client.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

using testing::Process;
using testing::RedisServer;
using testing::RunResult;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kBridge = PHYSICS_BRIDGE_BIN;

std::string Url(const RedisServer& server, std::string_view userinfo) {
  return absl::StrCat("redis://", std::string(userinfo), "@127.0.0.1:", server.port(), "/0");
}

// Runs the engine for a few loop ticks against `url`.
RunResult RunEngine(const std::string& url) {
  return testing::RunToCompletion({kEngine, "--hz", "20", "--symbols", "3", "--duration", "0.5"},
                                  absl::Seconds(15), {{"REDIS_URL", url}});
}

TEST(RedisAuth, EngineWritesWithRequirepassAndRefusesAWrongPasswordWithOneLine) {
  RedisServer server({.password = "s3cret"});
  ASSERT_TRUE(server.Start().ok());
  const RunResult right = RunEngine(Url(server, ":s3cret"));
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_NE(server.String({"GET", "physics:state:SPY"}), "");

  const RunResult wrong = RunEngine(Url(server, ":wrong"));
  const std::string& log = wrong.err;
  EXPECT_EQ(wrong.exit_code, 2) << log;
  EXPECT_EQ(testing::CountOf(log, " ERROR "), 1u) << log;
  EXPECT_NE(log.find("WRONGPASS"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong"), std::string::npos) << "the password leaked into the log: " << log;
}

TEST(RedisAuth, EngineWritesAsAnAclUser) {
  RedisServer server({.extra_args = {"--user", "engine", "on", ">enginepw", "~*", "&*", "+@all"}});
  ASSERT_TRUE(server.Start().ok());
  const RunResult right = RunEngine(Url(server, "engine:enginepw"));
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_NE(server.String({"GET", "physics:state:QQQ"}), "");
  const RunResult wrong = RunEngine(Url(server, "engine:nope"));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
}

TEST(RedisAuth, BridgeReportsRefusedCredentialsInHealthzAndKeepsRetrying) {
  RedisServer server({.password = "s3cret"});
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<int> port = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  absl::StatusOr<Process> bridge = testing::SpawnWithRedis(
      kBridge, Url(server, ":wrong"), {"--listen", absl::StrCat("127.0.0.1:", *port)});
  ASSERT_TRUE(bridge.ok()) << bridge.status();
  const http::Url healthz{"127.0.0.1", std::to_string(*port), "/healthz"};
  // Until the server answers and has tried Redis at least once (before
  // that the reason is "not connected to Redis yet"; slow under ASan).
  absl::StatusOr<http::Response> r = testing::EventuallyValue(
      [&] { return http::Get(healthz, absl::Seconds(2)); },
      [](const http::Response& h) { return h.body.find("not connected to Redis yet") == std::string::npos; },
      absl::Seconds(15), absl::Milliseconds(100));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("WRONGPASS"), std::string::npos) << r->body;
  // It keeps retrying rather than exiting: Redis refuses a later attempt too
  // (each refused AUTH is an error reply).
  const auto refusals = [&] { return testing::InfoNumber(server, "total_error_replies"); };
  const int64_t refused = refusals();
  ASSERT_TRUE(testing::Eventually([&] { return refusals() > refused; }).ok())
      << "no attempt after the first refusal; " << bridge->ReadStderr();
  EXPECT_TRUE(bridge->running()) << bridge->ReadStderr();
  EXPECT_EQ(bridge->Terminate().exit_code, 0);
}

}  // namespace
}  // namespace physics
