// physics-status against a real Redis Cluster (3 masters + 3 replicas on
// loopback): the "cluster" check shows every master with its slots, keys and
// replica, the sharded subscribers of the partition channels and whether
// PUBLISH is being broadcast; the key checks (states, heartbeats) read the
// keys of every master; the per-server checks run on every master.
// physics-top shows the states of every master and follows the partition
// channels; physics-publish's pub/sub ticks reach a subscriber on another
// node, and its stream target is refused.
#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/redis/cluster.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/state_json.h"

namespace physics {
namespace {

using testing::ClusterSet;
using testing::Eventually;
using testing::RunResult;
using testing::RunToCompletion;
using testing::StateEventJson;
using testing::StateJson;

constexpr const char* kStatus = PHYSICS_STATUS_BIN;
constexpr const char* kTop = PHYSICS_TOP_BIN;
constexpr const char* kPublish = PHYSICS_PUBLISH_BIN;

class ClusterStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status started = set_.Start();
    ASSERT_TRUE(started.ok()) << started;
    absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(set_.config(), absl::Seconds(1), absl::Seconds(2));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_.emplace(*std::move(cluster));
  }

  RunResult Status(const std::string& checks, bool json = false) {
    std::vector<std::string> argv = {kStatus, "--redis-url", set_.url(), "--bridge-url", "",
                                     "--check",  checks,     "--timeout",  "1"};
    if (json) argv.push_back("--json");
    return RunToCompletion(argv);
  }

  ClusterSet set_;
  std::optional<redis::Cluster> cluster_;
};

TEST_F(ClusterStatusTest, ShowsEveryMasterAndReadsTheKeysOfAllOfThem) {
  // 60 states: with 3 masters each holds some.
  std::vector<bool> master_has_key(cluster_->masters(), false);
  for (int i = 0; i < 60; ++i) {
    const std::string key = absl::StrCat("physics:state:S", i);
    master_has_key[cluster_->MasterOf(redis::KeySlot(key))] = true;
    ASSERT_TRUE(cluster_->Command(key, {"SET", key, "{}"}).ok());
  }
  ASSERT_EQ(std::count(master_has_key.begin(), master_has_key.end(), true), 3);

  RunResult r;
  // Replicas count as online once their links are up.
  ASSERT_TRUE(Eventually([&] {
                r = Status("cluster,states");
                return absl::StrContains(r.out, "(lag 0 B)") && !absl::StrContains(r.out, "0 replicas");
              }, absl::Seconds(15), absl::Milliseconds(200)).ok())
      << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "cluster_state ok, 3 masters (16384/16384 slots)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "1 replica (lag")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "60 physics:state:* keys")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "PUBLISH copied over the bus 0 times")) << r.out;
  // Nobody listens to the partition channels: a WARN naming how many.
  EXPECT_TRUE(absl::StrContains(r.out, "24 of 24 partition channels have no subscriber")) << r.out;
  EXPECT_EQ(r.exit_code, 1) << r.out;

  // The per-server checks name every master.
  const RunResult servers = Status("redis,latency");
  for (size_t i = 0; i < cluster_->masters(); ++i) {
    EXPECT_TRUE(absl::StrContains(servers.out, cluster_->topology().shards[i].master.ToString() + ": Redis 7"))
        << servers.out;
  }
}

TEST_F(ClusterStatusTest, CountsShardedSubscribersAndPublishBroadcasts) {
  // A subscriber on partition 0's channel, on the master serving it.
  const redis::Partitioning parts;
  const int owner = cluster_->MasterOf(parts.Slot(0));
  ASSERT_NE(owner, redis::ClusterTopology::kNoOwner);
  absl::StatusOr<redis::Connection> sub = redis::Connection::Open(
      cluster_->NodeConfig(cluster_->topology().shards[owner].master), absl::Seconds(1), absl::Seconds(2));
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(sub->Command({"SSUBSCRIBE", parts.Channel(set_.config(), 0)}).ok());
  RunResult r = Status("cluster", /*json=*/true);
  EXPECT_TRUE(absl::StrContains(Status("cluster").out, "23 of 24 partition channels have no subscriber"));
  EXPECT_TRUE(absl::StrContains(r.out, R"("sharded_subscribers":1)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, R"("publish_sent":0)")) << r.out;

  // A plain PUBLISH is copied to every other node over the bus.
  ASSERT_TRUE(cluster_->Command("x", {"PUBLISH", "state_update", "x"}).ok());
  ASSERT_TRUE(Eventually([&] {
                r = Status("cluster", /*json=*/true);
                return !absl::StrContains(r.out, R"("publish_sent":0)");
              }, absl::Seconds(5), absl::Milliseconds(100)).ok())
      << r.out;
}

TEST_F(ClusterStatusTest, FailsWhileAMastersSlotsAreUncovered) {
  set_.node(0).Kill();  // a master; its replica is promoted after the node timeout
  RunResult r;
  ASSERT_TRUE(Eventually([&] {
                r = Status("cluster");
                return r.exit_code == 2;
              }, absl::Seconds(15), absl::Milliseconds(100)).ok())
      << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "FAIL  cluster")) << r.out;
  ASSERT_TRUE(set_.WaitForClusterOk(absl::Seconds(20)).ok());
  ASSERT_TRUE(Eventually([&] {
                r = Status("cluster");
                return absl::StrContains(r.out, "cluster_state ok, 3 masters (16384/16384 slots)");
              }, absl::Seconds(15), absl::Milliseconds(200)).ok())
      << r.out << r.err;
  // The promoted master has no replica left: said.
  EXPECT_TRUE(absl::StrContains(r.out, "has no online replica")) << r.out;
}

// ---------------------------------------------------------------- physics-top

using ClusterToolsTest = ClusterStatusTest;

TEST_F(ClusterToolsTest, TopShowsTheStatesOfEveryMasterAndFollowsThePartitionChannels) {
  // 12 stored states: with 3 masters each holds some.
  std::vector<std::string> symbols;
  std::vector<bool> master_has_key(cluster_->masters(), false);
  for (int i = 0; i < 12; ++i) {
    symbols.push_back(absl::StrCat("S", i));
    const std::string key = "physics:state:" + symbols.back();
    master_has_key[cluster_->MasterOf(redis::KeySlot(key))] = true;
    ASSERT_TRUE(cluster_->Command(key, {"SET", key, StateJson(i, 1)}).ok());
  }
  ASSERT_EQ(std::count(master_has_key.begin(), master_has_key.end(), true), 3);

  // ZZZ is never stored: it can only come from its partition's channel. A
  // writer keeps SPUBLISHing it, so some copy lands between physics-top's
  // SSUBSCRIBE and its one read of the messages (--once).
  const redis::Partitioning parts;
  const std::string channel = parts.Channel(set_.config(), parts.Of("ZZZ"));
  std::atomic<bool> stop{false};
  std::thread publisher([&, config = set_.config()] {
    absl::StatusOr<redis::Cluster> own = redis::Cluster::Open(config, absl::Seconds(1), absl::Seconds(2));
    if (!own.ok()) return;
    for (int64_t seq = 1; !stop.load(); ++seq) {
      own->Command(channel, {"SPUBLISH", channel, StateEventJson("ZZZ", 99, seq)}).IgnoreError();
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  RunResult r;
  const absl::Status shown = Eventually([&] {
    r = RunToCompletion({kTop, "--redis-url", set_.url(), "--once", "--width", "300", "--height", "40"});
    return r.exit_code == 0 && absl::StrContains(r.out, "\nZZZ ");
  }, absl::Seconds(20), absl::Milliseconds(50));
  stop.store(true);
  publisher.join();
  ASSERT_TRUE(shown.ok()) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "13/13 symbols")) << r.out;
  for (const std::string& symbol : symbols) {
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("\n", symbol, " "))) << symbol << "\n" << r.out;
  }
  // Nothing on the status line: every master subscribed and primed.
  EXPECT_FALSE(absl::StrContains(r.out, "retrying")) << r.out;
}

TEST(ClusterTools, TopRefusesABadPartitionCountInOneLine) {
  const RunResult r = RunToCompletion({kTop, "--redis-url", "redis-cluster://127.0.0.1:1", "--partitions", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--partitions")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// ---------------------------------------------------------------- physics-publish

TEST_F(ClusterToolsTest, PublishedTicksReachASubscriberOnAnotherNode) {
  // physics-publish sends through the master serving slot 0; listen on another one.
  const int sender = cluster_->MasterOf(0), listener = cluster_->MasterOf(redis::kClusterSlots - 1);
  ASSERT_NE(sender, listener);
  absl::StatusOr<redis::Connection> sub = redis::Connection::Open(
      cluster_->NodeConfig(cluster_->topology().shards[listener].master), absl::Seconds(1), absl::Seconds(2));
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(sub->Command({"SUBSCRIBE", "market.tick.SPY"}).ok());

  const RunResult r = RunToCompletion({kPublish, "--redis-url", set_.url(), "--to", "pubsub", "--symbols", "SPY",
                                       "--count", "5", "--rate", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "published 5 ticks")) << r.err;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<redis::Reply> message = sub->ReadReplyWithin(absl::Seconds(5));
    ASSERT_TRUE(message.ok()) << "tick " << i << ": " << message.status();
    ASSERT_EQ((*message)->type, REDIS_REPLY_ARRAY);
    ASSERT_EQ((*message)->elements, 3u);
    EXPECT_EQ(redis::ReplyText((*message)->element[0]), "message");
    EXPECT_EQ(redis::ReplyText((*message)->element[1]), "market.tick.SPY");
    EXPECT_TRUE(absl::StrContains(std::string(redis::ReplyText((*message)->element[2])), R"("symbol":"SPY")"))
        << redis::ReplyText((*message)->element[2]);
  }
}

TEST_F(ClusterToolsTest, PublishGoesOnThroughThePromotedReplicaWhenItsMasterIsKilled) {
  // physics-publish sends through the master serving slot 0: kill that one,
  // listen on a master it does not affect.
  absl::StatusOr<size_t> sender = set_.MasterOf(0);
  ASSERT_TRUE(sender.ok()) << sender.status();
  absl::StatusOr<size_t> listener = set_.MasterOf(redis::kClusterSlots - 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_NE(*sender, *listener);
  absl::StatusOr<redis::Connection> sub =
      redis::Connection::Open(set_.node(*listener).config(), absl::Seconds(1), absl::Seconds(2));
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(sub->Command({"SUBSCRIBE", "market.tick.SPY"}).ok());
  absl::StatusOr<testing::Process> publisher = testing::SpawnWithRedis(
      kPublish, set_.url(), {"--to", "pubsub", "--symbols", "SPY", "--rate", "200"});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  ASSERT_TRUE(sub->ReadReplyWithin(absl::Seconds(5)).ok()) << publisher->ReadStderr();

  set_.node(*sender).Kill();  // its replica is promoted after the node timeout
  ASSERT_TRUE(set_.WaitForClusterOk(absl::Seconds(20)).ok());
  // Whatever was sent before the promotion, then ticks through the new master.
  while (sub->ReadReplyWithin(absl::ZeroDuration()).ok()) {
  }
  absl::StatusOr<redis::Reply> after = sub->ReadReplyWithin(absl::Seconds(10));
  ASSERT_TRUE(after.ok()) << after.status() << "\n" << publisher->ReadStderr();
  EXPECT_TRUE(absl::StrContains(std::string(redis::ReplyText((*after)->element[2])), R"("symbol":"SPY")"));
  EXPECT_TRUE(publisher->running()) << publisher->ReadStderr();
}

}  // namespace
}  // namespace physics
