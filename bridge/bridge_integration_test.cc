// physics-bridge end to end, protocol side (docs/SPEC.md §6): a real redis-server, the
// real physics-bridge process, and a raw WebSocket client.
#include <atomic>
#include <csignal>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/testing/bridge_fixture.h"
#include "engine/schema/state_message.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_reads.h"

namespace physics::bridge::testing {
namespace {

using physics::testing::Eventually;

constexpr absl::Duration kWait = absl::Seconds(3);

void ExpectPong(WsTestClient& ws) {
  ASSERT_TRUE(ws.SendText(R"({"type":"ping"})").ok());
  absl::StatusOr<std::string> pong = ws.ReadText(kWait);
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(*pong, R"({"type":"pong"})");
}

TEST_F(BridgeTest, ForwardsPublishedEventsVerbatimInTheMessageWrapper) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const std::string event = EventJson("SPY", 1, 450.5);
  Publish("state_update", event);
  absl::StatusOr<std::string> frame = ws.ReadText(kWait);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, MessageFrame(event));
}

TEST_F(BridgeTest, ClientsSpreadOverIoThreadsEachGetSnapshotsAndEveryMessage) {
  SetState("SPY", 7, 451);
  StartBridge({"--io-threads", "3"});
  std::vector<WsTestClient> clients;
  for (int i = 0; i < 7; ++i) {
    clients.push_back(Subscribed());
    absl::StatusOr<std::string> snapshot = clients.back().ReadText(kWait);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ(SeqOf(*snapshot), 7) << *snapshot;
  }
  EXPECT_EQ(Metric("bridge_clients"), 7);
  const std::string event = EventJson("SPY", 8, 452);
  Publish("state_update", event);
  for (WsTestClient& ws : clients) {
    absl::StatusOr<std::string> frame = ws.ReadText(kWait);
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(*frame, MessageFrame(event));
  }
  // HTTP connections land on every shard; each knows the latest state.
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<HttpResponse> state = HttpRequest(port_, "GET", "/api/state/SPY");
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->status, 200);
    EXPECT_NE(state->body.find(R"("seq":8)"), std::string::npos) << state->body;
  }
  // A write is counted just after it is sent, so a client can have read the
  // frame before the bridge has counted it.
  EXPECT_TRUE(Eventually([&] { return Metric("bridge_socket_write_seconds_count") >= 7; }).ok())
      << Metric("bridge_socket_write_seconds_count");
  EXPECT_TRUE(Eventually([&] { return Metric("bridge_messages_out_total") >= 14; }).ok())
      << Metric("bridge_messages_out_total");
}

TEST_F(BridgeTest, SymbolsFilterDeliversOnlyTheNamedSymbols) {
  StartBridge();
  WsTestClient ws = Subscribed(R"({"type":"subscribe","channel":"state_update","symbols":["spy"]})");
  PublishEvent("QQQ", 1, 380);
  const std::string spy = EventJson("SPY", 1, 450);
  Publish("state_update", spy);
  absl::StatusOr<std::string> frame = ws.ReadText(kWait);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(*frame, MessageFrame(spy));
}

TEST_F(BridgeTest, SubscribeSendsTheLatestStatePrimedFromRedis) {
  SetState("SPY", 7, 451);
  SetState("QQQ", 3, 381);
  StartBridge();
  WsTestClient ws = Subscribed();
  std::set<std::string> symbols;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::string> frame = ws.ReadText(kWait);
    ASSERT_TRUE(frame.ok()) << frame.status();
    symbols.insert(frame->find(R"("symbol":"SPY")") != std::string::npos ? "SPY" : "QQQ");
    EXPECT_EQ(SeqOf(*frame), frame->find("SPY") != std::string::npos ? 7 : 3) << *frame;
  }
  EXPECT_EQ(symbols, (std::set<std::string>{"SPY", "QQQ"}));
  // A filtered subscription gets only its symbols' snapshot.
  WsTestClient only_qqq = Subscribed(R"({"type":"subscribe","symbols":["QQQ"]})");
  absl::StatusOr<std::string> frame = only_qqq.ReadText(kWait);
  ASSERT_TRUE(frame.ok());
  EXPECT_NE(frame->find(R"("symbol":"QQQ")"), std::string::npos);
  ExpectPong(only_qqq);
}

TEST_F(BridgeTest, UnsubscribeStopsDelivery) {
  // One io thread: it queues each message for every session in one go, so
  // a client's request read after another client got the message comes after
  // it. (With several, the message reaches the io threads one after another.)
  StartBridge({"--io-threads", "1"});
  WsTestClient ws = Subscribed();
  WsTestClient witness = Subscribed();  // stays subscribed
  ASSERT_TRUE(ws.SendText(R"({"type":"unsubscribe","channel":"state_update"})").ok());
  absl::StatusOr<std::string> reply = ws.ReadText(kWait);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, R"({"type":"unsubscribed","channel":"state_update"})");
  PublishEvent("SPY", 1, 450);
  // Once the witness has the message, had `ws` still been subscribed, the
  // message would have been queued for it too, ahead of the pong.
  absl::StatusOr<std::string> seen = witness.ReadText(kWait);
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_EQ(SeqOf(*seen), 1) << *seen;
  ExpectPong(ws);
}

TEST_F(BridgeTest, AnswersJsonPingAndWebSocketPing) {
  StartBridge();
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_);
  ASSERT_TRUE(ws.ok());
  ExpectPong(*ws);
  ASSERT_TRUE(ws->SendFrame(Opcode::kPing, true, "hi").ok());
  absl::StatusOr<WsTestClient::Frame> pong = ws->ReadFrame(kWait);
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "hi");
}

TEST_F(BridgeTest, BadRequestsGetAnErrorFrameAndTheConnectionStaysOpen) {
  StartBridge();
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_);
  ASSERT_TRUE(ws.ok());
  for (const std::string_view bad :
       {std::string_view("not json"), std::string_view(R"({"type":"bogus"})"),
        std::string_view(R"([1,2])"), std::string_view(R"({"type":"subscribe","symbols":"SPY"})"),
        std::string_view(R"({"type":"subscribe","symbols":["BAD SYM"]})"),
        std::string_view(R"({"type":"subscribe","channel":"nope"})")}) {
    ASSERT_TRUE(ws->SendText(bad).ok());
    absl::StatusOr<std::string> reply = ws->ReadText(kWait);
    ASSERT_TRUE(reply.ok()) << bad << ": " << reply.status();
    EXPECT_EQ(reply->find(R"({"type":"error","error":")"), 0u) << bad << " -> " << *reply;
  }
  ASSERT_TRUE(ws->SendFrame(Opcode::kBinary, true, "\x01\x02").ok());
  absl::StatusOr<std::string> reply = ws->ReadText(kWait);
  ASSERT_TRUE(reply.ok());
  EXPECT_NE(reply->find("binary"), std::string::npos) << *reply;
  ExpectPong(*ws);
  EXPECT_GE(Metric(R"(bridge_client_errors_total{reason="bad_json"})"), 2);
  EXPECT_GE(Metric(R"(bridge_client_errors_total{reason="bad_request"})"), 4);
  EXPECT_EQ(Metric(R"(bridge_client_errors_total{reason="binary"})"), 1);
  EXPECT_EQ(Metric("bridge_clients"), 1);
}

TEST_F(BridgeTest, OversizedFrameClosesWith1009) {
  StartBridge({"--max-frame-bytes", "1024"});
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE(ws->SendText(std::string(2000, 'x')).ok());
  absl::StatusOr<WsTestClient::Frame> frame = ws->ReadFrame(kWait);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->opcode, Opcode::kClose);
  EXPECT_EQ(frame->close_code, 1009);
  EXPECT_EQ(Metric(R"(bridge_client_errors_total{reason="oversized"})"), 1);
}

TEST_F(BridgeTest, FloodGetsAnErrorThenACloseWith1008) {
  StartBridge({"--max-client-msgs-per-sec", "5"});
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port_);
  ASSERT_TRUE(ws.ok());
  // 40 pings in one write: the bridge judges them within microseconds (no
  // token comes back meanwhile), and it cannot close the connection before
  // the client has sent them all.
  std::string burst;
  for (int i = 0; i < 40; ++i) AppendMaskedFrame(Opcode::kText, true, R"({"type":"ping"})", 0x5eed1234, burst);
  ASSERT_TRUE(ws->SendRaw(burst).ok());
  // Five answered (one second's worth), the sixth refused with an error, the
  // eleventh (six refused within a second) closes the connection.
  std::vector<std::string> frames;
  for (;;) {
    absl::StatusOr<WsTestClient::Frame> frame = ws->ReadFrame(kWait);
    ASSERT_TRUE(frame.ok()) << frame.status() << " after " << frames.size() << " frames";
    if (frame->opcode == Opcode::kClose) {
      frames.push_back(absl::StrCat("close ", frame->close_code));
      break;
    }
    frames.push_back(frame->payload.find("rate limit") != std::string::npos ? "rate limit error"
                                                                            : frame->payload);
  }
  const std::string pong = R"({"type":"pong"})";
  EXPECT_EQ(frames, (std::vector<std::string>{pong, pong, pong, pong, pong, "rate limit error", "close 1008"}));
  EXPECT_EQ(Metric(R"(bridge_client_errors_total{reason="flood"})"), 1);
}

TEST_F(BridgeTest, HttpStateMetricsDashboardAndErrors) {
  SetState("SPY", 9, 452);
  StartBridge();
  absl::StatusOr<HttpResponse> state = HttpRequest(port_, "GET", "/api/state/SPY");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, 200);
  absl::StatusOr<redis::Reply> stored = redis_.Run({"GET", "physics:state:SPY"});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(state->body, std::string((*stored)->str, (*stored)->len));
  EXPECT_EQ(HttpRequest(port_, "GET", "/api/state/spy")->status, 200);
  EXPECT_EQ(HttpRequest(port_, "GET", "/api/state/NOPE")->status, 404);
  EXPECT_EQ(HttpRequest(port_, "GET", "/api/state/BAD%20SYM")->status, 404);
  EXPECT_EQ(HttpRequest(port_, "GET", "/nope")->status, 404);
  EXPECT_EQ(HttpRequest(port_, "POST", "/metrics")->status, 405);
  EXPECT_EQ(HttpRequest(port_, "DELETE", "/api/state/SPY")->status, 405);
  EXPECT_EQ(HttpRequest(port_, "GET", "/ws")->status, 426);

  absl::StatusOr<HttpResponse> page = HttpRequest(port_, "GET", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  EXPECT_NE(page->body.find("/ws"), std::string::npos);
  EXPECT_EQ(page->body.find("<script src="), std::string::npos);  // self-contained

  absl::StatusOr<HttpResponse> metrics = HttpRequest(port_, "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  for (const char* name : {"bridge_clients ", "bridge_messages_in_total ", "bridge_messages_out_total ",
                           "bridge_messages_conflated_total ", "bridge_messages_dropped_total ",
                           "bridge_slow_client_closes_total ", "bridge_redis_to_bridge_seconds_bucket",
                           "bridge_socket_write_seconds_bucket", "bridge_seq_gaps_total "}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }
}

TEST_F(BridgeTest, MaxClientsHoldsForUpgradesArrivingTogether) {
  StartBridge({"--max-clients", "4", "--io-threads", "2"});
  // Twelve upgrades at once over both io threads: exactly four get in.
  constexpr int kTries = 12;
  std::vector<std::optional<absl::StatusOr<WsTestClient>>> tries(kTries);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kTries; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kTries) std::this_thread::yield();
      tries[i].emplace(WsTestClient::Connect(port_));
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<WsTestClient> admitted;
  for (auto& t : tries) {
    if (t->ok()) {
      admitted.push_back(std::move(**t));
    } else {
      EXPECT_NE(t->status().message().find("503"), std::string_view::npos) << t->status();
    }
  }
  EXPECT_EQ(admitted.size(), 4u);
  EXPECT_EQ(Metric("bridge_clients"), 4);
  EXPECT_EQ(Metric("bridge_clients_rejected_total"), kTries - 4);
  // A slot freed by a client that leaves is given to the next one.
  admitted.pop_back();
  ASSERT_TRUE(Eventually([&] { return Metric("bridge_clients") == 3; }).ok())
      << Metric("bridge_clients");
  absl::StatusOr<WsTestClient> next = WsTestClient::Connect(port_);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Metric("bridge_clients"), 4);
}

TEST_F(BridgeTest, RefreshesItsHeartbeatKey) {
  StartBridge();
  const std::vector<std::string> keys = physics::testing::Keys(redis_, "ops:hb:bridge:*");
  ASSERT_EQ(keys.size(), 1u);
  const int64_t ttl = redis_.Integer({"TTL", keys[0]});
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 30);
}

TEST_F(BridgeTest, NamespacePrefixesKeysAndChannels) {
  SetState("SPY", 2, 450, "agentic");
  StartBridge({"--namespace", "agentic"});
  WsTestClient ws = Subscribed();
  absl::StatusOr<std::string> snapshot = ws.ReadText(kWait);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(SeqOf(*snapshot), 2);
  PublishEvent("SPY", 3, 451);  // un-namespaced: not ours
  const std::string event = EventJson("SPY", 3, 451);
  Publish("agentic:state_update", event);
  absl::StatusOr<std::string> frame = ws.ReadText(kWait);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, MessageFrame(event));
}

TEST_F(BridgeTest, ExtraChannelPatternsAreForwarded) {
  StartBridge({"--channels", "market.tick.*,alerts"});
  WsTestClient ticks = Subscribed(R"({"type":"subscribe","channel":"market.tick.*"})");
  WsTestClient alerts = Subscribed(R"({"type":"subscribe","channel":"alerts"})");
  Publish("market.tick.SPY", R"({"symbol":"SPY","price":450.1})");
  Publish("alerts", "plain text");
  absl::StatusOr<std::string> tick = ticks.ReadText(kWait);
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(*tick, MessageFrame(R"({"symbol":"SPY","price":450.1})", "market.tick.SPY"));
  absl::StatusOr<std::string> alert = alerts.ReadText(kWait);
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(*alert, MessageFrame(R"("plain text")", "alerts"));
}

TEST_F(BridgeTest, SeqGapIsRepairedFromTheStoredState) {
  StartBridge();
  WsTestClient ws = Subscribed();
  PublishEvent("SPY", 1, 450);
  ASSERT_EQ(SeqOf(*ws.ReadText(kWait)), 1);
  // seq 2..4 were "lost"; the engine has stored 5 by the time 3 arrives.
  const std::string state5 = StateJson(5, 455);
  ASSERT_TRUE(redis_.Run({"SET", "physics:state:SPY", state5}).ok());
  PublishEvent("SPY", 3, 453);
  EXPECT_EQ(SeqOf(*ws.ReadText(kWait)), 3);
  EXPECT_EQ(SeqOf(*ws.ReadText(kWait)), 5);
  EXPECT_EQ(Metric("bridge_seq_gaps_total"), 1);
  // The live copy of 5 arrives later and is not sent twice.
  std::string event5;
  ASSERT_TRUE(schema::EventFromStateJson("SPY", state5, event5).ok());
  Publish("state_update", event5);
  PublishEvent("SPY", 6, 456);
  EXPECT_EQ(SeqOf(*ws.ReadText(kWait)), 6);
}

TEST_F(BridgeTest, SigtermClosesClientsWith1001AndExitsZeroQuickly) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(bridge_->Signal(SIGTERM).ok());
  absl::StatusOr<WsTestClient::Frame> frame = ws.ReadFrame(kWait);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->opcode, Opcode::kClose);
  EXPECT_EQ(frame->close_code, 1001);
  absl::StatusOr<physics::testing::ExitStatus> exit = bridge_->Wait(absl::Seconds(2));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->success()) << exit->ToString();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace physics::bridge::testing
