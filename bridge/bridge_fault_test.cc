// physics-bridge end to end, fault side (docs/SPEC.md §6, §7): Redis outages and
// restarts, /healthz proving delivery, and a client that never reads.
#include <atomic>
#include <csignal>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/testing/bridge_fixture.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"

namespace physics::bridge::testing {
namespace {

using physics::testing::Eventually;

constexpr absl::Duration kWait = absl::Seconds(3);

TEST_F(BridgeTest, HealthzIs503WithAReasonWhileRedisIsDown) {
  StartBridge();
  EXPECT_EQ(HealthStatus(port_), 200);
  redis_.Kill();
  std::string body;
  ASSERT_TRUE(Eventually([&] { return HealthStatus(port_, &body) == 503; }).ok()) << body;
  EXPECT_NE(body.find("\"reason\":"), std::string::npos) << body;
  EXPECT_NE(body.find("Redis"), std::string::npos) << body;
  EXPECT_EQ(Metric("bridge_redis_connected"), 0);
  ASSERT_TRUE(redis_.Start().ok());
  EXPECT_TRUE(Eventually([&] { return HealthStatus(port_) == 200; }).ok());
}

TEST_F(BridgeTest, AnOutageIsLoggedOnceNotAtEveryRetry) {
  StartBridge();
  redis_.Kill();
  // The outage: 2.5 s, long enough for retries at 0.1, 0.2, 0.4 and 0.8 s to
  // be refused (a slower machine retries less; the counts below only bound).
  absl::SleepFor(absl::Milliseconds(2500));
  ASSERT_TRUE(redis_.Start().ok());
  ASSERT_TRUE(Eventually([&] { return HealthStatus(port_) == 200; }).ok()) << bridge_->ReadStderr();
  const std::string log = bridge_->ReadStderr();
  const auto count = [&](std::string_view text) { return physics::testing::CountOf(log, text); };
  // One line when the connection drops, one when reconnecting is refused;
  // none for the refused retries after it.
  EXPECT_EQ(count("Connection refused"), 1u) << log;
  EXPECT_LE(count("Redis unavailable"), 2u) << log;
  EXPECT_EQ(count("clients stay connected, retrying with backoff"), count("Redis unavailable")) << log;
}

TEST_F(BridgeTest, RedisRestartKeepsClientsAndResendsTheCurrentState) {
  SetState("SPY", 1, 450);
  StartBridge();
  WsTestClient ws = Subscribed();
  ASSERT_EQ(SeqOf(*ws.ReadText(kWait)), 1);
  redis_.Kill();
  ASSERT_TRUE(Eventually([&] { return Metric("bridge_redis_connected") == 0; }).ok());
  // Still connected to the bridge while Redis is gone.
  ASSERT_TRUE(ws.SendText(R"({"type":"ping"})").ok());
  EXPECT_EQ(*ws.ReadText(kWait), R"({"type":"pong"})");
  // Redis comes back (empty); the engine writes its newer state before the
  // bridge has resubscribed, so the publish itself is lost to the bridge.
  // The bridge is held stopped meanwhile: its retries (every 0.1 s at first)
  // would otherwise race the write.
  ASSERT_TRUE(bridge_->Signal(SIGSTOP).ok());
  ASSERT_TRUE(redis_.Start().ok());
  SetState("SPY", 4, 454);
  ASSERT_TRUE(bridge_->Signal(SIGCONT).ok());
  absl::StatusOr<std::string> repaired = ws.ReadText(absl::Seconds(8));
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(SeqOf(*repaired), 4);
  PublishEvent("SPY", 5, 455);
  EXPECT_EQ(SeqOf(*ws.ReadText(kWait)), 5);
  EXPECT_GE(Metric("bridge_redis_reconnects_total"), 1);
}

TEST_F(BridgeTest, ClientThatNeverReadsIsClosedWhileOthersKeepReceiving) {
  // The normal client is read by this test's thread, which a loaded machine
  // can stall: a queue as deep as all that is published and a second's grace
  // keep it from being conflated or closed as slow (both happened at 64
  // frames and 300 ms); the client that never reads is closed all the same.
  constexpr int64_t kMaxEvents = 20000;
  StartBridge({"--slow-client-ms", "1000", "--queue-depth", absl::StrCat(kMaxEvents)});
  absl::StatusOr<WsTestClient> slow = WsTestClient::Connect(port_, /*receive_buffer=*/4096);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow->SendText(R"({"type":"subscribe","channel":"state_update"})").ok());
  WsTestClient normal = Subscribed();

  // 4 KiB events so the slow client's socket fills fast; the normal client
  // is read here and must see every seq in order.
  const std::string pad(4000, 'x');
  std::atomic<bool> publishing{true};
  int64_t last_published = 0;
  std::thread publisher([&] {
    absl::StatusOr<redis::Connection> conn = redis_.Connect();
    ASSERT_TRUE(conn.ok());
    for (int64_t seq = 1; publishing.load() && seq <= kMaxEvents; ++seq) {
      std::string event = EventJson("SPY", seq, 450);
      event.insert(event.size() - 2, absl::StrCat(",\"pad\":\"", pad, "\""));
      ASSERT_TRUE(conn->Command({"PUBLISH", "state_update", event}).ok());
      last_published = seq;
      if (seq % 20 == 0) absl::SleepFor(absl::Milliseconds(5));
    }
  });
  // Stops the publisher however the test ends (a failed ASSERT included), so
  // a failure is reported rather than ending in std::terminate.
  struct StopOnExit {
    std::atomic<bool>& publishing;
    std::thread& publisher;
    ~StopOnExit() {
      publishing = false;
      if (publisher.joinable()) publisher.join();
    }
  } stop_publisher{publishing, publisher};
  int64_t expected = 1;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (Metric("bridge_slow_client_closes_total") < 1 && absl::Now() < deadline) {
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<std::string> frame = normal.ReadText(kWait);
      ASSERT_TRUE(frame.ok()) << frame.status();
      ASSERT_EQ(SeqOf(*frame), expected) << "normal client missed a message";
      ++expected;
    }
  }
  publishing = false;
  publisher.join();
  EXPECT_GE(Metric("bridge_slow_client_closes_total"), 1);
  while (expected <= last_published) {
    absl::StatusOr<std::string> frame = normal.ReadText(kWait);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(SeqOf(*frame), expected++);
  }
  // The slow client's connection is gone: draining it ends in a close or EOF.
  absl::Status end;
  while ((end = slow->ReadFrame(kWait).status()).ok()) {
  }
  EXPECT_TRUE(absl::IsUnavailable(end)) << end;
  // The bridge counts a client out just after closing its socket.
  EXPECT_TRUE(Eventually([&] { return Metric("bridge_clients") == 1; }).ok()) << Metric("bridge_clients");
}

}  // namespace
}  // namespace physics::bridge::testing
