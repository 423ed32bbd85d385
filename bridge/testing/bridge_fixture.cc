#include "bridge/testing/bridge_fixture.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/schema/event_header.h"
#include "engine/schema/state_message.h"
#include "tests/support/programs.h"

namespace physics::bridge::testing {

std::string StateJson(int64_t seq, double price) {
  schema::StateFields state;
  state.mass = 0.5;
  state.momentum = 0.01 * static_cast<double>(seq);
  state.friction = 0.2;
  state.entropy = 2.5;
  state.nash_dist = -0.3;
  state.regime = "Levy";
  state.alpha = 1.7;
  state.price = price;
  state.seq = seq;
  // Now, so the Redis->bridge latency histogram sees realistic values.
  state.timestamp = absl::ToUnixMicros(absl::Now());
  std::string out;
  schema::AppendStateJson(state, out);
  return out;
}

std::string EventJson(std::string_view symbol, int64_t seq, double price) {
  std::string event;
  EXPECT_TRUE(schema::EventFromStateJson(symbol, StateJson(seq, price), event).ok());
  return event;
}

std::string MessageFrame(std::string_view event, std::string_view channel) {
  return absl::StrCat(R"({"type":"message","channel":")", std::string(channel), R"(","data":)",
                      std::string(event), "}");
}

int64_t SeqOf(const std::string& frame) {
  const size_t data = frame.find(R"("data":)");
  schema::EventHeader header;
  if (data == std::string::npos ||
      !schema::ParseEventHeader(std::string_view(frame).substr(data + 7, frame.size() - data - 8),
                                false, header).ok()) {
    return -1;
  }
  return header.seq;
}

int HealthStatus(int port, std::string* body) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", "/healthz");
  if (!r.ok()) return -1;
  if (body != nullptr) *body = r->body;
  return r->status;
}

void BridgeTest::SetUp() { ASSERT_TRUE(redis_.Start().ok()); }

void BridgeTest::TearDown() {
  if (bridge_) {
    bridge_->Terminate(absl::Seconds(2));
    if (HasFailure()) std::cerr << "physics-bridge stderr:\n" << bridge_->ReadStderr();
  }
}

void BridgeTest::StartBridge(std::vector<std::string> args,
                             std::vector<std::pair<std::string, std::string>> env) {
  LaunchBridge(std::move(args), std::move(env));
  if (HasFatalFailure()) return;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    absl::StatusOr<HttpResponse> health = HttpRequest(port_, "GET", "/healthz");
    if (health.ok() && health->status == 200) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  FAIL() << "bridge never became healthy: " << bridge_->ReadStderr();
}

void BridgeTest::LaunchBridge(std::vector<std::string> args,
                              std::vector<std::pair<std::string, std::string>> env) {
  std::vector<std::string> argv = {PHYSICS_BRIDGE_BIN, "--listen", "127.0.0.1:0", "--redis-url",
                                   RedisUrl()};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<physics::testing::Process> p = physics::testing::Process::Spawn(
      {.argv = argv,
       .env = std::move(env),
       .unset_env = physics::testing::kConfigEnvironment});
  ASSERT_TRUE(p.ok()) << p.status();
  bridge_ = *std::move(p);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  constexpr std::string_view kListening = "listening on http://127.0.0.1:";
  while (port_ == 0 && absl::Now() < deadline) {
    const std::string log = bridge_->ReadStderr();
    if (size_t at = log.find(kListening); at != std::string::npos) {
      port_ = std::atoi(log.c_str() + at + kListening.size());
    } else {
      ASSERT_TRUE(bridge_->running()) << log;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  ASSERT_NE(port_, 0) << bridge_->ReadStderr();
}

void BridgeTest::SetState(std::string_view symbol, int64_t seq, double price, std::string_view ns) {
  const std::string prefix = ns.empty() ? "" : absl::StrCat(std::string(ns), ":");
  ASSERT_TRUE(redis_.Run({"SET", absl::StrCat(prefix, "physics:state:", std::string(symbol)),
                          StateJson(seq, price)}).ok());
}

void BridgeTest::PublishEvent(std::string_view symbol, int64_t seq, double price,
                              std::string_view ns) {
  const std::string prefix = ns.empty() ? "" : absl::StrCat(std::string(ns), ":");
  Publish(absl::StrCat(prefix, "state_update"), EventJson(symbol, seq, price));
}

void BridgeTest::Publish(std::string_view channel, std::string_view payload) {
  absl::StatusOr<redis::Reply> r = redis_.Run({"PUBLISH", channel, payload});
  ASSERT_TRUE(r.ok()) << r.status();
}

WsTestClient BridgeTest::Subscribed(std::string_view request) {
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_);
  EXPECT_TRUE(ws.ok()) << ws.status();
  if (!ws.ok()) std::abort();
  EXPECT_TRUE(ws->SendText(request).ok());
  absl::StatusOr<std::string> reply = ws->ReadText(absl::Seconds(2));
  EXPECT_TRUE(reply.ok()) << reply.status();
  if (reply.ok()) {
    EXPECT_EQ(reply->find(R"({"type":"subscribed")"), 0u) << *reply;
  }
  return *std::move(ws);
}

double BridgeTest::Metric(std::string_view sample) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port_, "GET", "/metrics");
  if (!r.ok()) return -1;
  const std::string needle = absl::StrCat("\n", std::string(sample), " ");
  const size_t at = r->body.find(needle);
  if (at == std::string::npos) return -1;
  return std::atof(r->body.c_str() + at + needle.size());
}

}  // namespace physics::bridge::testing
