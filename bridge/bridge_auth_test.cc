// physics-bridge end to end, access control (docs/SPEC.md §6): --token,
// --token-file, $PHYSICS_BRIDGE_TOKEN and --allowed-origins against the real
// process.
#include <string>

#include "absl/strings/str_cat.h"
#include "bridge/testing/bridge_fixture.h"
#include "gtest/gtest.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace physics::bridge::testing {
namespace {

const std::string kToken = "s3cret-T0ken";
const std::string kBearer = "Authorization: Bearer s3cret-T0ken\r\n";

// The handshake's HTTP status: 101, or the code it was refused with.
int UpgradeStatus(int port, std::string_view target, std::string_view headers = "") {
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port, 0, target, headers);
  if (ws.ok()) return 101;
  const std::string message(ws.status().message());
  const size_t at = message.find("HTTP/1.1 ");
  return at == std::string::npos ? -1 : std::atoi(message.c_str() + at + 9);
}

int GetStatus(int port, std::string_view path, std::string_view headers = "") {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", path, absl::Seconds(5), headers);
  return r.ok() ? r->status : -1;
}

void ExpectTokenRequired(int port) {
  EXPECT_EQ(UpgradeStatus(port, "/ws"), 401);
  EXPECT_EQ(UpgradeStatus(port, "/ws?token=wrong"), 401);
  EXPECT_EQ(UpgradeStatus(port, "/ws", "Authorization: Bearer s3cret-T0ke\r\n"), 401);
  EXPECT_EQ(UpgradeStatus(port, "/ws", kBearer), 101);
  EXPECT_EQ(UpgradeStatus(port, absl::StrCat("/ws?token=", kToken)), 101);
  EXPECT_EQ(GetStatus(port, "/api/state/SPY"), 401);
  EXPECT_EQ(GetStatus(port, "/api/state/SPY?token=s3cret-T0ken0"), 401);
  EXPECT_EQ(GetStatus(port, "/api/state/SPY", kBearer), 200);
  EXPECT_EQ(GetStatus(port, absl::StrCat("/api/state/SPY?token=", kToken)), 200);
}

TEST_F(BridgeTest, TokenFlagGuardsWsAndApiAndCountsFailures) {
  SetState("SPY", 3, 450);
  StartBridge({"--token", kToken});
  ExpectTokenRequired(port_);
  absl::StatusOr<HttpResponse> refused = HttpRequest(port_, "GET", "/api/state/SPY");
  ASSERT_TRUE(refused.ok());
  EXPECT_NE(refused->headers.find("WWW-Authenticate: Bearer"), std::string::npos) << refused->headers;
  EXPECT_EQ(refused->body.find("s3cret"), std::string::npos);
  // The page, the health check and the metrics stay open.
  EXPECT_EQ(GetStatus(port_, "/"), 200);
  EXPECT_EQ(GetStatus(port_, "/healthz"), 200);
  EXPECT_EQ(Metric("bridge_auth_failures_total"), 6);
  // An authorised client gets data as usual.
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_, 0, "/ws", kBearer);
  ASSERT_TRUE(ws.ok()) << ws.status();
  ASSERT_TRUE(ws->SendText(R"({"type":"subscribe","channel":"state_update"})").ok());
  absl::StatusOr<std::string> subscribed = ws->ReadText(absl::Seconds(3));
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  absl::StatusOr<std::string> snapshot = ws->ReadText(absl::Seconds(3));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_NE(snapshot->find(R"("symbol":"SPY")"), std::string::npos);
}

TEST_F(BridgeTest, TokenFromAFileWithItsTrailingNewlineStripped) {
  SetState("SPY", 3, 450);
  absl::StatusOr<physics::testing::TempDir> dir = physics::testing::TempDir::Create();
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = dir->File("bridge_auth_token");
  ASSERT_TRUE(physics::testing::WriteFile(path, absl::StrCat(kToken, "\n")).ok());
  StartBridge({"--token-file", path});
  ExpectTokenRequired(port_);
}

TEST_F(BridgeTest, TokenFromTheEnvironmentAndAFlagOverridesIt) {
  SetState("SPY", 3, 450);
  StartBridge({}, {{"PHYSICS_BRIDGE_TOKEN", kToken}});
  ExpectTokenRequired(port_);
  bridge_.reset();
  port_ = 0;
  StartBridge({"--token", "flag-token"}, {{"PHYSICS_BRIDGE_TOKEN", kToken}});
  EXPECT_EQ(GetStatus(port_, "/api/state/SPY", kBearer), 401);
  EXPECT_EQ(GetStatus(port_, "/api/state/SPY?token=flag-token"), 200);
}

TEST_F(BridgeTest, WithoutATokenEverythingIsOpen) {
  SetState("SPY", 3, 450);
  StartBridge();
  EXPECT_EQ(UpgradeStatus(port_, "/ws"), 101);
  EXPECT_EQ(GetStatus(port_, "/api/state/SPY"), 200);
}

TEST_F(BridgeTest, UnreadableTokenFileIsOneLineAndExitCode2) {
  absl::StatusOr<physics::testing::Process> p = physics::testing::Process::Spawn(
      {.argv = {PHYSICS_BRIDGE_BIN, "--token-file", "/nonexistent/bridge-token"}});
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<physics::testing::ExitStatus> exit = p->Wait(absl::Seconds(5));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 2) << exit->ToString();
  const std::string err = p->ReadStderr();
  EXPECT_NE(err.find("/nonexistent/bridge-token"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
}

TEST_F(BridgeTest, UpgradeFromAnOriginNotAllowedIs403) {
  StartBridge({"--allowed-origins", "https://dash.example.com,http://localhost:3000"});
  EXPECT_EQ(UpgradeStatus(port_, "/ws", "Origin: https://evil.example\r\n"), 403);
  EXPECT_EQ(UpgradeStatus(port_, "/ws", "Origin: https://dash.example.com\r\n"), 101);
  EXPECT_EQ(UpgradeStatus(port_, "/ws", "Origin: http://localhost:3000\r\n"), 101);
  EXPECT_EQ(UpgradeStatus(port_, "/ws"), 101);  // no Origin: not a browser
  EXPECT_EQ(Metric("bridge_origin_rejections_total"), 1);
}

TEST_F(BridgeTest, BadOriginIs403EvenWithTheToken) {
  StartBridge({"--token", kToken, "--allowed-origins", "https://dash.example.com"});
  EXPECT_EQ(UpgradeStatus(port_, "/ws", absl::StrCat(kBearer, "Origin: https://evil.example\r\n")),
            403);
  EXPECT_EQ(UpgradeStatus(port_, "/ws", "Origin: https://dash.example.com\r\n"), 401);
  EXPECT_EQ(UpgradeStatus(port_, "/ws", absl::StrCat(kBearer, "Origin: https://dash.example.com\r\n")),
            101);
}

}  // namespace
}  // namespace physics::bridge::testing
