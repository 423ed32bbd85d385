// REDIS_URL credentials against real redis-servers started with requirepass
// and with an ACL user (SPEC §8): the engine writes with the right
// ones, and with wrong ones prints one line and exits 2; the bridge keeps
// retrying and reports the refusal in /healthz.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/http_client/http_client.h"
#include "gtest/gtest.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

using testing::Process;
using testing::ProcessOptions;
using testing::RedisServer;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kBridge = PHYSICS_BRIDGE_BIN;

std::string Url(const RedisServer& server, std::string_view userinfo) {
  return absl::StrCat("redis://", std::string(userinfo), "@127.0.0.1:", server.port(), "/0");
}

// Runs the engine for a few loop ticks against `url`; returns its exit status.
testing::ExitStatus RunEngine(const std::string& url, std::string* stderr_text) {
  absl::StatusOr<Process> engine = Process::Spawn(ProcessOptions{
      .argv = {kEngine, "--hz", "20", "--symbols", "3", "--duration", "0.5"},
      .env = {{"REDIS_URL", url}},
      .unset_env = {"REDIS_NAMESPACE", "REDIS_PASSWORD"}});
  EXPECT_TRUE(engine.ok()) << engine.status();
  absl::StatusOr<testing::ExitStatus> st = engine->Wait(absl::Seconds(15));
  EXPECT_TRUE(st.ok());
  *stderr_text = engine->ReadStderr();
  return st.ok() ? *st : testing::ExitStatus{};
}

TEST(RedisAuth, EngineWritesWithRequirepassAndRefusesAWrongPasswordWithOneLine) {
  RedisServer server({.password = "s3cret"});
  ASSERT_TRUE(server.Start().ok());
  std::string log;
  EXPECT_EQ(RunEngine(Url(server, ":s3cret"), &log).exit_code, 0) << log;
  EXPECT_NE(server.String({"GET", "physics:state:SPY"}), "");

  const testing::ExitStatus st = RunEngine(Url(server, ":wrong"), &log);
  EXPECT_EQ(st.exit_code, 2) << log;
  size_t errors = 0;
  for (size_t at = 0; (at = log.find(" ERROR ", at)) != std::string::npos; ++at) ++errors;
  EXPECT_EQ(errors, 1u) << log;
  EXPECT_NE(log.find("WRONGPASS"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong"), std::string::npos) << "the password leaked into the log: " << log;
}

TEST(RedisAuth, EngineWritesAsAnAclUser) {
  RedisServer server({.extra_args = {"--user", "engine", "on", ">enginepw", "~*", "&*", "+@all"}});
  ASSERT_TRUE(server.Start().ok());
  std::string log;
  EXPECT_EQ(RunEngine(Url(server, "engine:enginepw"), &log).exit_code, 0) << log;
  EXPECT_NE(server.String({"GET", "physics:state:QQQ"}), "");
  EXPECT_EQ(RunEngine(Url(server, "engine:nope"), &log).exit_code, 2) << log;
}

TEST(RedisAuth, BridgeReportsRefusedCredentialsInHealthzAndKeepsRetrying) {
  RedisServer server({.password = "s3cret"});
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<int> port = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  absl::StatusOr<Process> bridge = Process::Spawn(ProcessOptions{
      .argv = {kBridge, "--listen", absl::StrCat("127.0.0.1:", *port)},
      .env = {{"REDIS_URL", Url(server, ":wrong")}},
      .unset_env = {"REDIS_NAMESPACE", "REDIS_PASSWORD"}});
  ASSERT_TRUE(bridge.ok());
  const http::Url healthz{"127.0.0.1", std::to_string(*port), "/healthz"};
  // Until the server answers and has tried Redis at least once (before
  // that the reason is "not connected to Redis yet"; slow under ASan).
  absl::StatusOr<http::Response> r;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    r = http::Get(healthz, absl::Seconds(2));
    if (r.ok() && r->body.find("not connected to Redis yet") == std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("WRONGPASS"), std::string::npos) << r->body;
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(bridge->running()) << bridge->ReadStderr();
  EXPECT_EQ(bridge->Terminate().exit_code, 0);
}

}  // namespace
}  // namespace physics
