// physics-status against a real Redis Cluster (3 masters + 3 replicas on
// loopback): the "cluster" check shows every master with its slots, keys and
// replica, the sharded subscribers of the partition channels and whether
// PUBLISH is being broadcast; the key checks (states, heartbeats) read the
// keys of every master; the per-server checks run on every master.
// physics-top shows the states of every master and follows the partition
// channels, in a terminal too, across a killed master; physics-publish's pub/sub ticks reach a subscriber on another
// node, and its stream target is refused.
#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "engine/redis/cluster.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/state_json.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmux.h"

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
constexpr const char* kEngine = PHYSICS_ENGINE_BIN;

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

TEST(ClusterStatus, StartsWhileAMasterIsDownAndFailsNamingIt) {
  // No replica to promote: the master stays down, the others serve.
  ClusterSet set({.replicas_per_master = 0, .require_full_coverage = false});
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<size_t> victim = set.MasterOf(0);
  ASSERT_TRUE(victim.ok()) << victim.status();
  const std::string address = absl::StrCat("127.0.0.1:", set.node(*victim).port());
  set.node(*victim).Kill();
  const RunResult r = RunToCompletion(
      {kStatus, "--redis-url", set.url(), "--bridge-url", "", "--check", "cluster,redis", "--timeout", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "FAIL  cluster")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("master ", address, " unreachable (5461 slots)"))) << r.out;
  // The other masters are still checked, each named.
  for (size_t i = 0; i < set.node_count(); ++i) {
    if (i == *victim) continue;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("127.0.0.1:", set.node(i).port(), ": Redis 7"))) << r.out;
  }
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

// The ages (seconds) of the table rows on a physics-top screen, by symbol;
// a row whose AGE is not in seconds (a minute or more) counts as 1e9.
std::map<std::string, double> RowAges(const std::string& screen) {
  std::map<std::string, double> ages;
  std::vector<std::string> header;
  size_t age_column = 0;
  for (absl::string_view line : absl::StrSplit(screen, '\n')) {
    const std::vector<std::string> tokens = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (header.empty()) {
      if (tokens.empty() || !absl::StartsWith(tokens[0], "SYMBOL")) continue;
      header = tokens;
      for (size_t i = 0; i < header.size(); ++i) {
        if (absl::StartsWith(header[i], "AGE")) age_column = i;
      }
      continue;
    }
    if (tokens.size() != header.size() || age_column == 0) continue;
    double age = 1e9;
    absl::string_view text = tokens[age_column];
    if (absl::ConsumeSuffix(&text, "s") && !absl::SimpleAtod(text, &age)) age = 1e9;
    ages[tokens[0]] = age;
  }
  return ages;
}

// physics-top in a real terminal (a detached tmux session, as the one-server
// tests in ops_test.cc) while two engine shards write 12 symbols at 20 Hz:
// when the master of a partition channel is killed the status line says so,
// and once its replica is promoted every row is fresh again (under 1 s old:
// the killed master's partitions had gone stale for seconds).
TEST_F(ClusterToolsTest, TopInATerminalShowsEverySymbolFreshAgainAfterAKilledMaster) {
  if (!testing::OnPath("tmux")) GTEST_SKIP() << "tmux is not installed (tools/setup.sh installs it)";
  std::vector<testing::Process> engines;
  for (const char* shard : {"0/2", "1/2"}) {
    absl::StatusOr<testing::Process> engine =
        testing::SpawnWithRedis(kEngine, set_.url(), {"--symbols", "12", "--hz", "20", "--shard", shard});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engines.push_back(*std::move(engine));
  }
  const testing::TempDir dir = *testing::TempDir::Create("physics-top-");
  absl::StatusOr<testing::TmuxSession> tmux = testing::TmuxSession::Start(dir.File("tmux.sock"), 120, 30);
  ASSERT_TRUE(tmux.ok()) << tmux.status();
  tmux->Type(absl::StrCat(kTop, " --redis-url ", set_.url()));
  tmux->Keys({"Enter"});
  std::map<std::string, double> ages;
  auto all_fresh = [&] {
    const std::string screen = tmux->Screen();
    ages = RowAges(screen);
    return ages.size() == 12 && !absl::StrContains(screen, "retrying") &&
           std::all_of(ages.begin(), ages.end(), [](const auto& row) { return row.second < 1.0; });
  };
  ASSERT_TRUE(Eventually(all_fresh, absl::Seconds(20), absl::Milliseconds(100)).ok()) << tmux->Screen();

  const redis::Partitioning parts;
  absl::StatusOr<size_t> victim = set_.MasterOf(parts.Slot(parts.Of(ages.begin()->first)));
  ASSERT_TRUE(victim.ok()) << victim.status();
  set_.node(*victim).Kill();
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(tmux->Screen(), "retrying"); }, absl::Seconds(10),
                         absl::Milliseconds(50))
                  .ok())
      << tmux->Screen();
  ASSERT_TRUE(Eventually(all_fresh, absl::Seconds(30), absl::Milliseconds(100)).ok()) << tmux->Screen();
  tmux->Keys({"q"});
  for (testing::Process& engine : engines) EXPECT_EQ(engine.Terminate().exit_code, 0) << engine.ReadStderr();
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
