// Test set-up shared by the bridge's integration tests: a real redis-server
// and the real physics-bridge process listening on a free port, plus helpers
// to write states and publish events the way the engine does.
// Not thread-safe: one test thread.
#ifndef PHYSICS_BRIDGE_TESTING_BRIDGE_FIXTURE_H_
#define PHYSICS_BRIDGE_TESTING_BRIDGE_FIXTURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/testing/ws_test_client.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace physics::bridge::testing {

// The state JSON the engine would store for `symbol` at `seq` (price varies
// with seq), and the event it would publish.
std::string StateJson(int64_t seq, double price);
std::string EventJson(std::string_view symbol, int64_t seq, double price);
// {"type":"message","channel":"state_update","data":<event>}
std::string MessageFrame(std::string_view event, std::string_view channel = "state_update");
// The seq of the event inside a message frame's text, or -1.
int64_t SeqOf(const std::string& frame);
// GET /healthz on the bridge at `port`: its status (-1 when unreachable),
// and its body into `body` when given.
int HealthStatus(int port, std::string* body = nullptr);

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The --redis-url the bridge gets: the RedisServer's.
  virtual std::string RedisUrl() const { return redis_.url(); }

  // Starts the bridge (Redis is already up) with these extra flags and
  // environment variables, waits for its port and until /healthz answers 200.
  void StartBridge(std::vector<std::string> args = {},
                   std::vector<std::pair<std::string, std::string>> env = {});
  // The same without waiting for /healthz: only until it listens (a bridge
  // started while Redis is partly down).
  void LaunchBridge(std::vector<std::string> args = {},
                    std::vector<std::pair<std::string, std::string>> env = {});

  // SET physics:state:{symbol}, with an optional namespace prefix.
  void SetState(std::string_view symbol, int64_t seq, double price, std::string_view ns = "");
  // PUBLISH on [ns:]state_update, as the engine does.
  void PublishEvent(std::string_view symbol, int64_t seq, double price, std::string_view ns = "");
  void Publish(std::string_view channel, std::string_view payload);

  // A connected client that has subscribed (and read the "subscribed" reply).
  WsTestClient Subscribed(std::string_view request = R"({"type":"subscribe","channel":"state_update"})");
  // GET /metrics and the value of one sample line ("name{labels}"), or -1.
  double Metric(std::string_view sample);

  physics::testing::RedisServer redis_;
  std::optional<physics::testing::Process> bridge_;
  int port_ = 0;
};

}  // namespace physics::bridge::testing

#endif  // PHYSICS_BRIDGE_TESTING_BRIDGE_FIXTURE_H_
