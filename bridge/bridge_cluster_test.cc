// physics-bridge on a Redis Cluster (docs/SPEC.md §6, §9): a real cluster of
// three masters and three replicas (ClusterSet), the real physics-bridge on
// its redis-cluster:// URL, and a WebSocket client. Messages go out the way
// the engine sends them in cluster mode: SPUBLISH on the symbol's partition
// channel, on the master serving it.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "bridge/testing/bridge_fixture.h"
#include "engine/redis/config.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"

namespace physics::bridge::testing {
namespace {

using physics::testing::ClusterSet;
using physics::testing::RedisServer;
using physics::testing::Eventually;

constexpr absl::Duration kWait = absl::Seconds(5);

class BridgeClusterTest : public BridgeTest {
 protected:
  void SetUp() override {
    cluster_.emplace(cluster_options_);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  std::string RedisUrl() const override { return cluster_->url(); }

  // The slot of `symbol`'s partition channel.
  uint16_t PartitionSlot(std::string_view symbol) const { return parts_.Slot(parts_.Of(symbol)); }

  // The node serving `slot` as master.
  size_t MasterNode(uint16_t slot) {
    absl::StatusOr<size_t> m = cluster_->MasterOf(slot);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : 0;
  }

  // `count` symbols whose partitions are spread so that every master
  // serves some of them: symbol -> the node serving its partition channel.
  std::map<std::string, size_t> SymbolsOnEveryMaster(int count) {
    std::map<std::string, size_t> out;
    std::set<size_t> masters;
    for (int i = 0; static_cast<int>(out.size()) < count || masters.size() < 3; ++i) {
      const std::string symbol = absl::StrCat("S", i);
      const size_t node = MasterNode(PartitionSlot(symbol));
      out[symbol] = node;
      masters.insert(node);
    }
    return out;
  }

  // SPUBLISH the engine's event for `symbol` on its partition channel, on `node`.
  void SPublish(size_t node, std::string_view symbol, int64_t seq) {
    const std::string channel = parts_.Channel(redis::Config{}, parts_.Of(symbol));
    absl::StatusOr<redis::Reply> r =
        cluster_->node(node).Run({"SPUBLISH", channel, EventJson(symbol, seq, 100.0 + seq)});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // SET physics:state:{symbol} on the master serving the key.
  void StoreState(std::string_view symbol, int64_t seq) {
    const std::string key = absl::StrCat("physics:state:", std::string(symbol));
    absl::StatusOr<redis::Reply> r =
        cluster_->node(MasterNode(redis::KeySlot(key))).Run({"SET", key, StateJson(seq, 100.0 + seq)});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // Reads frames until `symbol` arrives with `seq` (or fails).
  void ExpectState(WsTestClient& ws, std::string_view symbol, int64_t seq) {
    const std::string needle = absl::StrCat(R"("symbol":")", std::string(symbol), R"(")");
    for (;;) {
      absl::StatusOr<std::string> frame = ws.ReadText(kWait);
      ASSERT_TRUE(frame.ok()) << "waiting for " << symbol << " seq " << seq << ": " << frame.status();
      if (frame->find(needle) != std::string::npos && SeqOf(*frame) == seq) return;
    }
  }

  // SPUBLISH on `node`, then read until the client has it.
  void Deliver(WsTestClient& ws, size_t node, std::string_view symbol, int64_t seq) {
    SPublish(node, symbol, seq);
    ExpectState(ws, symbol, seq);
  }

  // Waits until the bridge has resubscribed (a resubscription counted) and
  // /healthz is 200 again.
  void ExpectResubscribed(absl::Duration timeout = physics::testing::kEventuallyTimeout) {
    std::string body;
    EXPECT_TRUE(Eventually([&] {
                  return Metric("bridge_redis_reconnects_total") >= 1 && HealthStatus(port_, &body) == 200;
                }, timeout).ok())
        << body;
  }

  physics::testing::ClusterSetOptions cluster_options_;
  std::optional<ClusterSet> cluster_;
  const redis::Partitioning parts_{redis::kDefaultPartitions};
};

TEST_F(BridgeClusterTest, EverySymbolOnEveryMasterReachesTheClientInSeqOrder) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const std::map<std::string, size_t> symbols = SymbolsOnEveryMaster(12);
  constexpr int64_t kSeqs = 5;
  for (int64_t seq = 1; seq <= kSeqs; ++seq) {
    for (const auto& [symbol, node] : symbols) SPublish(node, symbol, seq);
  }
  std::map<std::string, std::vector<int64_t>> seen;
  for (size_t n = 0; n < symbols.size() * kSeqs; ++n) {
    absl::StatusOr<std::string> frame = ws.ReadText(kWait);
    ASSERT_TRUE(frame.ok()) << "after " << n << " frames: " << frame.status();
    ASSERT_EQ(frame->find(R"({"type":"message","channel":"state_update","data":)"), 0u) << *frame;
    const size_t at = frame->find(R"("symbol":")") + 10;
    seen[frame->substr(at, frame->find('"', at) - at)].push_back(SeqOf(*frame));
  }
  for (const auto& [symbol, node] : symbols) {
    EXPECT_EQ(seen[symbol], (std::vector<int64_t>{1, 2, 3, 4, 5})) << symbol << " via node " << node;
  }
  std::string body;
  EXPECT_EQ(HealthStatus(port_, &body), 200) << body;
  // The heartbeat is on whichever master serves its slot.
  size_t heartbeats = 0;
  for (size_t i = 0; i < cluster_->node_count(); ++i) {
    heartbeats += physics::testing::Keys(cluster_->node(i), "ops:hb:bridge:*").size();
  }
  EXPECT_GE(heartbeats, 1u);
}

TEST_F(BridgeClusterTest, StatesStoredOnEveryMasterArePrimedAndExtraChannelsForwarded) {
  std::map<std::string, int64_t> stored;
  std::set<size_t> masters;
  for (int i = 0; masters.size() < 3 || stored.size() < 9; ++i) {
    const std::string symbol = absl::StrCat("P", i);
    stored[symbol] = 10 + i;
    StoreState(symbol, 10 + i);
    masters.insert(MasterNode(redis::KeySlot(absl::StrCat("physics:state:", symbol))));
  }
  StartBridge({"--channels", "alerts"});
  WsTestClient ws = Subscribed();
  std::map<std::string, int64_t> snapshot;
  for (size_t n = 0; n < stored.size(); ++n) {
    absl::StatusOr<std::string> frame = ws.ReadText(kWait);
    ASSERT_TRUE(frame.ok()) << frame.status();
    const size_t at = frame->find(R"("symbol":")") + 10;
    snapshot[frame->substr(at, frame->find('"', at) - at)] = SeqOf(*frame);
  }
  EXPECT_EQ(snapshot, stored);

  // Extra channels are plain pub/sub, which the cluster copies to every node.
  WsTestClient alerts = Subscribed(R"({"type":"subscribe","channel":"alerts"})");
  absl::StatusOr<redis::Reply> published =
      cluster_->node(cluster_->node_count() - 1).Run({"PUBLISH", "alerts", R"({"x":1})"});
  ASSERT_TRUE(published.ok()) << published.status();
  absl::StatusOr<std::string> alert = alerts.ReadText(kWait);
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(*alert, MessageFrame(R"({"x":1})", "alerts"));
}

TEST_F(BridgeClusterTest, AManualFailoverIsFollowedAndTheClientStaysConnected) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const std::map<std::string, size_t> symbols = SymbolsOnEveryMaster(6);
  const auto& [symbol, master] = *symbols.begin();
  Deliver(ws, master, symbol, 1);

  absl::StatusOr<size_t> replica = cluster_->ReplicaOf(master);
  ASSERT_TRUE(replica.ok()) << replica.status();
  // A manual failover whose election fails is abandoned after 5 s (Redis's
  // CLUSTER_MF_TIMEOUT), and the replica stays one: ask again.
  absl::Status promoted;
  for (int attempt = 0; attempt < 3; ++attempt) {
    promoted = cluster_->Failover(*replica, absl::Seconds(15));
    if (promoted.ok()) break;
  }
  ASSERT_TRUE(promoted.ok()) << promoted;
  ASSERT_EQ(MasterNode(PartitionSlot(symbol)), *replica);
  // Stored and published, as the engine does: the state reaches the client
  // live or through the re-prime, whichever comes first.
  StoreState(symbol, 2);
  Deliver(ws, *replica, symbol, 2);

  ExpectResubscribed();
  // Now live through the promoted master's subscription, and the others'.
  Deliver(ws, *replica, symbol, 3);
  for (const auto& [other, node] : symbols) {
    if (other != symbol) Deliver(ws, node == master ? *replica : node, other, 7);
  }
}

TEST_F(BridgeClusterTest, APartitionWhoseSlotMovesIsResubscribedOnItsNewMaster) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const uint16_t slot = PartitionSlot("SPY");
  const size_t from = MasterNode(slot);
  size_t to = from;
  for (int p = 0; p < parts_.count() && to == from; ++p) to = MasterNode(parts_.Slot(p));
  ASSERT_NE(to, from);
  Deliver(ws, from, "SPY", 1);

  ASSERT_TRUE(cluster_->BeginSlotMigration(slot, from, to).ok());
  ASSERT_TRUE(cluster_->MigrateKeys(slot, from, to, 100).ok());
  ASSERT_TRUE(cluster_->FinishSlotMigration(slot, from, to).ok());
  ASSERT_TRUE(cluster_->WaitForClusterOk(absl::Seconds(15)).ok());
  ASSERT_EQ(MasterNode(slot), to);

  ExpectResubscribed();
  Deliver(ws, to, "SPY", 2);
}

TEST_F(BridgeClusterTest, AKilledMasterIsReplacedByItsPromotedReplica) {
  StartBridge();
  WsTestClient ws = Subscribed();
  const uint16_t slot = PartitionSlot("QQQ");
  const size_t master = MasterNode(slot);
  Deliver(ws, master, "QQQ", 1);

  cluster_->node(master).Kill();
  std::string body;
  ASSERT_TRUE(Eventually([&] { return HealthStatus(port_, &body) == 503; }).ok()) << body;
  // The node timeout (2 s), then the replica's election.
  ASSERT_TRUE(Eventually([&] {
                absl::StatusOr<size_t> now = cluster_->MasterOf(slot);
                return now.ok() && *now != master;
              }, absl::Seconds(30)).ok());
  ASSERT_TRUE(cluster_->WaitForClusterOk(absl::Seconds(30)).ok());
  // The bridge retries (every 250 ms at most) until the promoted replica is
  // in the slot map.
  ExpectResubscribed();
  Deliver(ws, MasterNode(slot), "QQQ", 2);
}

// A node timeout well beyond what the test takes: a stalled master stays
// the master (no replica is promoted meanwhile).
class BridgeClusterStallTest : public BridgeClusterTest {
 protected:
  BridgeClusterStallTest() { cluster_options_.node_timeout = absl::Seconds(30); }
};

TEST_F(BridgeClusterStallTest, HealthzNamesAMasterThatDoesNotDeliver) {
  StartBridge();
  std::string body;
  ASSERT_EQ(HealthStatus(port_, &body), 200) << body;
  const size_t stalled = MasterNode(parts_.Slot(0));
  ASSERT_TRUE(cluster_->node(stalled).Pause().ok());
  // A stalled master (sockets open, no answers): no canary comes back through it.
  const std::string address = absl::StrCat("127.0.0.1:", cluster_->node(stalled).port());
  EXPECT_TRUE(Eventually([&] { return HealthStatus(port_, &body) == 503; }).ok()) << body;
  EXPECT_NE(body.find(address), std::string::npos) << body << " should name " << address;
  ASSERT_TRUE(cluster_->node(stalled).Resume().ok());
  EXPECT_TRUE(Eventually([&] { return HealthStatus(port_, &body) == 200; }).ok()) << body;
}

// Masters without replicas, and a node timeout well beyond the test: a
// killed or stopped master stays the master of its slots (nothing takes
// over, the cluster stays up), and comes back on its own port.
class BridgeClusterDownTest : public BridgeClusterTest {
 protected:
  BridgeClusterDownTest() {
    cluster_options_.replicas_per_master = 0;
    cluster_options_.node_timeout = absl::Seconds(30);
  }

  // Starts the bridge after take_down(node) stopped one master, checks that
  // the others deliver and /healthz names it, then bring_back(node) and the
  // same client gets that master's symbols too.
  void ServesTheOthersUntilTheMasterIsBack(absl::FunctionRef<void(RedisServer&)> take_down,
                                           absl::FunctionRef<void(RedisServer&)> bring_back) {
    const std::map<std::string, size_t> symbols = SymbolsOnEveryMaster(9);
    const size_t down = symbols.begin()->second;
    // A symbol whose partition is on the master about to go down and whose
    // state key is on another one: the engine stores its state meanwhile
    // (the SPUBLISH fails), so it must be read when that master's feed is back.
    std::string stranded;
    for (int i = 0; stranded.empty(); ++i) {
      const std::string symbol = absl::StrCat("K", i);
      if (MasterNode(PartitionSlot(symbol)) == down &&
          MasterNode(redis::KeySlot(absl::StrCat("physics:state:", symbol))) != down) {
        stranded = symbol;
      }
    }
    const std::string address = absl::StrCat("127.0.0.1:", cluster_->node(down).port());
    take_down(cluster_->node(down));

    LaunchBridge();
    std::string body;
    EXPECT_TRUE(Eventually([&] {
                  return HealthStatus(port_, &body) == 503 && body.find(address) != std::string::npos;
                }).ok())
        << body << " should name " << address;
    WsTestClient ws = Subscribed();
    for (const auto& [symbol, node] : symbols) {
      if (node != down) Deliver(ws, node, symbol, 1);
    }
    StoreState(stranded, 40);
    EXPECT_EQ(HealthStatus(port_, &body), 503) << body;
    EXPECT_NE(body.find(address), std::string::npos) << body << " should name " << address;

    bring_back(cluster_->node(down));
    ASSERT_TRUE(cluster_->WaitForClusterOk(absl::Seconds(30)).ok());
    EXPECT_TRUE(Eventually([&] { return HealthStatus(port_, &body) == 200; }, absl::Seconds(30)).ok()) << body;
    // The same client: the state stored meanwhile (primed), then every
    // master's symbols live, seq moving on.
    ExpectState(ws, stranded, 40);
    for (const auto& [symbol, node] : symbols) Deliver(ws, node, symbol, 2);
  }
};

TEST_F(BridgeClusterDownTest, ABridgeStartedWhileAMasterIsKilledServesTheOthersUntilItIsBack) {
  ServesTheOthersUntilTheMasterIsBack([](RedisServer& node) { node.Kill(); },
                                      [](RedisServer& node) { ASSERT_TRUE(node.Start().ok()); });
}

// A stopped process: connections are accepted (by the kernel) and never answered.
TEST_F(BridgeClusterDownTest, ABridgeStartedWhileAMasterIsStoppedServesTheOthersUntilItResumes) {
  ServesTheOthersUntilTheMasterIsBack([](RedisServer& node) { ASSERT_TRUE(node.Pause().ok()); },
                                      [](RedisServer& node) { ASSERT_TRUE(node.Resume().ok()); });
}

TEST(BridgeClusterFlags, ABadPartitionCountIsRefusedInOneLine) {
  for (const char* bad : {"0", "1025", "x"}) {
    physics::testing::RunResult r =
        physics::testing::RunToCompletion({PHYSICS_BRIDGE_BIN, "--partitions", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--partitions"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace physics::bridge::testing
