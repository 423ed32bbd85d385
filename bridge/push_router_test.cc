#include "bridge/push_router.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/schema/state_message.h"
#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

using Kind = PushDecision::Kind;

constexpr int64_t kReceivedNs = 123456789;

// --channels alerts,news.* without a namespace: alerts is stream 1, news.* stream 2.
PushRouter Router() { return PushRouter("", "physics-bridge:canary:test", {"alerts", "news.*"}); }

Push PMessage(std::string_view pattern, std::string_view channel, std::string_view payload) {
  return Push{.kind = "pmessage", .pattern = pattern, .channel = channel, .payload = payload,
              .received_ns = kReceivedNs};
}

Push Message(std::string_view channel, std::string_view payload) {
  Push push = PMessage("", channel, payload);
  push.kind = "message";
  return push;
}

// A reply that is not a message: `kind` and its channel or pattern.
Push Reply(std::string_view kind, std::string_view channel) {
  Push push = PMessage("", channel, "");
  push.kind = kind;
  return push;
}

std::string Event(std::string_view symbol, int64_t seq) {
  return absl::StrCat(R"({"event":"PHYSICS_UPDATE","symbol":")", std::string(symbol),
                      R"(","timestamp":"2025-12-21T12:00:00.000000Z","seq":)", seq,
                      R"(,"data":{"alpha":1.5}})");
}

std::string StoredState(int64_t seq) {
  std::string json;
  schema::AppendStateJson(schema::StateFields{.seq = seq, .timestamp = 1766318400LL * 1'000'000}, json);
  return json;
}

// The JSON text a client receives in `frame` (its WebSocket header skipped).
bool CarriesJson(const OutFrame& frame, std::string_view json) { return frame.bytes().ends_with(json); }

TEST(PushRouter, StateUpdateIsDeliveredWithItsSymbolAndSeq) {
  PushRouter router = Router();
  const std::string event = Event("SPY", 7);
  PushDecision d = router.Route(Message("state_update", event));
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.stream, kStateStream);
  EXPECT_EQ(d.frame->stream, kStateStream);
  EXPECT_EQ(d.frame->symbol, "SPY");
  EXPECT_EQ(d.frame->seq, 7);
  EXPECT_EQ(d.frame->received_ns, kReceivedNs);
  EXPECT_EQ(d.frame->data(), event);
  EXPECT_TRUE(CarriesJson(*d.frame, absl::StrCat(R"({"type":"message","channel":"state_update","data":)", event, "}")));
  EXPECT_EQ(d.event_time, 1766318400LL * 1'000'000);
  EXPECT_EQ(d.repair, "");
}

TEST(PushRouter, ASeqGapDeliversAndAsksForARepairOfThatSymbol) {
  PushRouter router = Router();
  EXPECT_EQ(router.Route(Message("state_update", Event("SPY", 1))).repair, "");
  EXPECT_EQ(router.Route(Message("state_update", Event("QQQ", 1))).repair, "");
  PushDecision d = router.Route(Message("state_update", Event("SPY", 4)));
  EXPECT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.frame->seq, 4);
  EXPECT_EQ(d.repair, "SPY");
  EXPECT_EQ(router.Route(Message("state_update", Event("SPY", 5))).repair, "");
}

TEST(PushRouter, ARepeatedOrOlderSeqIsStaleAndNotDelivered) {
  PushRouter router = Router();
  router.Route(Message("state_update", Event("SPY", 5)));
  for (const int64_t seq : {5, 4}) {
    PushDecision d = router.Route(Message("state_update", Event("SPY", seq)));
    EXPECT_EQ(d.kind, Kind::kStale) << seq;
    EXPECT_EQ(d.frame, nullptr);
    EXPECT_TRUE(d.event_time.has_value()) << "its latency is still observed";
  }
}

TEST(PushRouter, SeqOneAfterAHigherSeqMeansTheEngineRestartedAndIsDelivered) {
  PushRouter router = Router();
  router.Route(Message("state_update", Event("SPY", 50)));
  PushDecision d = router.Route(Message("state_update", Event("SPY", 1)));
  EXPECT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.repair, "");
}

TEST(PushRouter, AMalformedStateUpdateIsCountedAsBadNotDelivered) {
  PushRouter router = Router();
  for (const std::string_view payload :
       {std::string_view("not json"), std::string_view(R"({"symbol":"SPY"})"),
        std::string_view(R"({"symbol":"no spaces allowed","seq":1})")}) {
    PushDecision d = router.Route(Message("state_update", payload));
    EXPECT_EQ(d.kind, Kind::kBad) << payload;
    EXPECT_EQ(d.stream, kStateStream);
    EXPECT_EQ(d.frame, nullptr);
    EXPECT_EQ(d.error.code(), absl::StatusCode::kInvalidArgument) << d.error;
  }
}

TEST(PushRouter, AMessageOnAGlobChannelIsRoutedByItsPatternAndKeepsItsChannelName) {
  PushRouter router = Router();
  const std::string_view payload = R"({"headline":"rates unchanged"})";
  PushDecision d = router.Route(PMessage("news.*", "news.eu", payload));
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.stream, 2);
  EXPECT_EQ(d.frame->stream, 2);
  EXPECT_EQ(d.frame->symbol, "");
  EXPECT_EQ(d.frame->received_ns, kReceivedNs);
  EXPECT_TRUE(CarriesJson(*d.frame, absl::StrCat(R"({"type":"message","channel":"news.eu","data":)", std::string(payload), "}")));
  EXPECT_FALSE(d.event_time.has_value());
}

TEST(PushRouter, AnExactExtraChannelIsItsOwnStream) {
  PushRouter router = Router();
  PushDecision d = router.Route(Message("alerts", R"({"level":"high"})"));
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.frame->stream, 1);
}

TEST(PushRouter, ExtraChannelsForwardTextThatIsNotJsonAsAJsonString) {
  PushRouter router = Router();
  PushDecision d = router.Route(Message("alerts", R"(say "hi")"));
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.frame->data(), R"("say \"hi\"")");
}

TEST(PushRouter, ExtraChannelEventsKeepSymbolAndSeqButAreNotSeqChecked) {
  PushRouter router = Router();
  for (int i = 0; i < 2; ++i) {
    PushDecision d = router.Route(Message("alerts", Event("SPY", 9)));
    ASSERT_EQ(d.kind, Kind::kDeliver) << i;
    EXPECT_EQ(d.frame->symbol, "SPY");
    EXPECT_EQ(d.frame->seq, 9);
    EXPECT_EQ(d.repair, "");
  }
  // ...nor do they count as state_update's: SPY's first state is not stale.
  EXPECT_EQ(router.Route(Message("state_update", Event("SPY", 9))).kind, Kind::kDeliver);
}

TEST(PushRouter, AnExtraChannelPayloadThatIsNotUtf8IsBad) {
  PushRouter router = Router();
  PushDecision d = router.Route(Message("alerts", "\xff\xfe"));
  EXPECT_EQ(d.kind, Kind::kBad);
  EXPECT_EQ(d.stream, 1);
  EXPECT_EQ(d.frame, nullptr);
}

TEST(PushRouter, TheCanaryComesBackWithItsId) {
  PushRouter router = Router();
  PushDecision d = router.Route(Message("physics-bridge:canary:test", "42"));
  EXPECT_EQ(d.kind, Kind::kCanary);
  EXPECT_EQ(d.canary_id, 42u);
  EXPECT_EQ(router.Route(Message("physics-bridge:canary:test", "x")).canary_id, 0u);
}

TEST(PushRouter, SubscribeConfirmationsAreRecognisedAndOtherRepliesIgnored) {
  PushRouter router = Router();
  EXPECT_EQ(router.Route(Reply("subscribe", "state_update")).kind, Kind::kSubscribed);
  EXPECT_EQ(router.Route(Reply("psubscribe", "news.*")).kind, Kind::kSubscribed);
  EXPECT_EQ(router.Route(Reply("unsubscribe", "alerts")).kind, Kind::kIgnore);
}

TEST(PushRouter, ShardedMessagesOnPartitionChannelsReachClientsAsStateUpdate) {
  PushRouter router = Router();
  router.SetShardedChannels({"state_update:{0}", "state_update:{5}"}, {"physics-bridge:canary:test:{2}"});
  const std::string event = Event("QQQ", 3);
  Push push = Message("state_update:{5}", event);
  push.kind = "smessage";
  PushDecision d = router.Route(push);
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.frame->symbol, "QQQ");
  EXPECT_EQ(d.frame->seq, 3);
  EXPECT_TRUE(CarriesJson(*d.frame, absl::StrCat(R"({"type":"message","channel":"state_update","data":)",
                                                 event, "}")));
  // The same seq through another partition channel is the same state.
  push.channel = "state_update:{0}";
  EXPECT_EQ(router.Route(push).kind, Kind::kStale);
  // A partition channel is sharded: a plain message on it is not ours.
  const std::string next = Event("QQQ", 4);
  EXPECT_EQ(router.Route(Message("state_update:{0}", next)).kind, Kind::kIgnore);
  push.channel = "state_update:{9}";
  EXPECT_EQ(router.Route(push).kind, Kind::kIgnore);
}

TEST(PushRouter, ShardedCanariesNameTheMasterTheyCameThrough) {
  PushRouter router = Router();
  router.SetShardedChannels({"state_update:{0}"}, {"c:{1}", "c:{7}", "c:{9}"});
  Push push = Message("c:{7}", "42");
  push.kind = "smessage";
  PushDecision d = router.Route(push);
  EXPECT_EQ(d.kind, Kind::kCanary);
  EXPECT_EQ(d.canary_id, 42u);
  EXPECT_EQ(d.canary_source, 1u);
  // A new topology replaces the canaries.
  router.SetShardedChannels({"state_update:{0}"}, {"c:{9}"});
  EXPECT_EQ(router.Route(push).kind, Kind::kIgnore);
}

TEST(PushRouter, SunsubscribeFromOurShardedChannelAsksForAResubscription) {
  PushRouter router = Router();
  router.SetShardedChannels({"state_update:{0}"}, {"c:{1}"});
  EXPECT_EQ(router.Route(Reply("ssubscribe", "state_update:{0}")).kind, Kind::kSubscribed);
  EXPECT_EQ(router.Route(Reply("sunsubscribe", "state_update:{0}")).kind, Kind::kUnsubscribed);
  EXPECT_EQ(router.Route(Reply("sunsubscribe", "c:{1}")).kind, Kind::kUnsubscribed);
  EXPECT_EQ(router.Route(Reply("sunsubscribe", "elsewhere:{3}")).kind, Kind::kIgnore);
}

TEST(PushRouter, MessagesOnChannelsOrPatternsNeverAskedForAreIgnored) {
  PushRouter router = Router();
  EXPECT_EQ(router.Route(Message("other", Event("SPY", 1))).kind, Kind::kIgnore);
  EXPECT_EQ(router.Route(PMessage("other.*", "other.x", "{}")).kind, Kind::kIgnore);
  // Only pmessage pushes are matched against the patterns.
  EXPECT_EQ(router.Route(Message("news.*", "{}")).kind, Kind::kIgnore);
}

TEST(PushRouter, NamespacedChannelsMatchInFullAndReachClientsWithoutTheNamespace) {
  PushRouter router("agentic:", "agentic:physics-bridge:canary:test", {"alerts", "news.*"});
  EXPECT_EQ(router.state_channel(), "agentic:state_update");
  EXPECT_EQ(router.exact_channels(), std::vector<std::string>{"agentic:alerts"});
  EXPECT_EQ(router.patterns(), std::vector<std::string>{"agentic:news.*"});

  EXPECT_EQ(router.Route(Message("state_update", Event("SPY", 1))).kind, Kind::kIgnore);
  PushDecision state = router.Route(Message("agentic:state_update", Event("SPY", 1)));
  ASSERT_EQ(state.kind, Kind::kDeliver);
  EXPECT_TRUE(CarriesJson(*state.frame, absl::StrCat(R"("channel":"state_update","data":)", Event("SPY", 1), "}")));
  PushDecision news = router.Route(PMessage("agentic:news.*", "agentic:news.eu", "{}"));
  ASSERT_EQ(news.kind, Kind::kDeliver);
  EXPECT_TRUE(CarriesJson(*news.frame, R"("channel":"news.eu","data":{}})"));
}

TEST(PushRouter, AStoredStateIsDeliveredAsAStateUpdateEvent) {
  PushRouter router = Router();
  const std::string state = StoredState(12);
  std::string event;
  ASSERT_TRUE(schema::EventFromStateJson("SPY", state, event).ok());
  PushDecision d = router.RouteStored("SPY", state, kReceivedNs);
  ASSERT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.frame->data(), event);
  EXPECT_EQ(d.frame->stream, kStateStream);
  EXPECT_EQ(d.frame->symbol, "SPY");
  EXPECT_EQ(d.frame->seq, 12);
  EXPECT_EQ(d.frame->received_ns, kReceivedNs);
  EXPECT_FALSE(d.event_time.has_value());
}

TEST(PushRouter, WhicheverCopyOfAStateComesSecondIsStale) {
  PushRouter router = Router();
  ASSERT_EQ(router.RouteStored("SPY", StoredState(12), kReceivedNs).kind, Kind::kDeliver);
  EXPECT_EQ(router.Route(Message("state_update", Event("SPY", 12))).kind, Kind::kStale);
  ASSERT_EQ(router.Route(Message("state_update", Event("QQQ", 3))).kind, Kind::kDeliver);
  EXPECT_EQ(router.RouteStored("QQQ", StoredState(3), kReceivedNs).kind, Kind::kStale);
}

TEST(PushRouter, AStoredStateAfterAGapIsItselfTheRepair) {
  PushRouter router = Router();
  router.Route(Message("state_update", Event("SPY", 1)));
  PushDecision d = router.RouteStored("SPY", StoredState(5), kReceivedNs);
  EXPECT_EQ(d.kind, Kind::kDeliver);
  EXPECT_EQ(d.repair, "");
}

TEST(PushRouter, AStoredStateUnderABadSymbolOrNotAStateIsBad) {
  PushRouter router = Router();
  EXPECT_EQ(router.RouteStored("spy", StoredState(1), kReceivedNs).kind, Kind::kBad);
  EXPECT_EQ(router.RouteStored("S P Y", StoredState(1), kReceivedNs).kind, Kind::kBad);
  PushDecision d = router.RouteStored("SPY", "[1,2]", kReceivedNs);
  EXPECT_EQ(d.kind, Kind::kBad);
  EXPECT_EQ(d.stream, kStateStream);
  EXPECT_EQ(d.frame, nullptr);
}

}  // namespace
}  // namespace physics::bridge
