// Partitioned streams end to end (docs/SPEC.md §9, docs/engine.md "### stream"):
// physics-publish writes each tick to its symbol's partition stream
// market:ticks:{TAG}, and engine shards (--shard, or on a Redis Cluster) read
// the partitions they own, each through its own consumer group and DLQ. The
// reference for every final state is the same ticks replayed through the csv
// feed in-process, which a one-stream run equals (feed_integration_test):
// the states must be byte-equal.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/csv_replay.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tick_csv.h"

namespace physics {
namespace {

using testing::Eventually;
using testing::Process;
using testing::RedisServer;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kPublish = PHYSICS_PUBLISH_BIN;
constexpr const char* kStatus = PHYSICS_STATUS_BIN;
constexpr int kInjectEvery = 300;  // physics-publish --invalid-every

const redis::Partitioning& Parts() {
  static const redis::Partitioning parts(redis::kDefaultPartitions);
  return parts;
}

std::string StreamOf(int p) { return Parts().Stream("market:ticks", p); }
std::string DeadLettersOf(int p) { return Parts().Stream("market:ticks:dlq", p); }

// Where the test reads a key: the one server, or the master serving its slot.
using NodeOf = std::function<const RedisServer*(std::string_view key)>;

NodeOf OnServer(const RedisServer& server) {
  return [&server](std::string_view) { return &server; };
}

NodeOf OnCluster(testing::ClusterSet& cluster) {
  return [&cluster](std::string_view key) -> const RedisServer* {
    absl::StatusOr<size_t> node = cluster.MasterOf(redis::KeySlot(key));
    return node.ok() ? &cluster.node(*node) : nullptr;
  };
}

// The group's XINFO GROUPS fields on partition p's stream ({} when none).
std::map<std::string, std::string> GroupOf(const NodeOf& node_of, int p) {
  const std::string key = StreamOf(p);
  absl::StatusOr<redis::Reply> r = node_of(key)->Run({"XINFO", "GROUPS", key});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements == 0) return {};
  return testing::FieldMap(*(*r)->element[0]);
}

// Every entry of every partition delivered and acknowledged.
bool Drained(const NodeOf& node_of) {
  for (int p = 0; p < Parts().count(); ++p) {
    const std::string key = StreamOf(p);
    absl::StatusOr<redis::Reply> last = node_of(key)->Run({"XREVRANGE", key, "+", "-", "COUNT", "1"});
    if (!last.ok() || (*last)->type != REDIS_REPLY_ARRAY) return false;
    if ((*last)->elements == 0) continue;  // nothing published there
    std::map<std::string, std::string> group = GroupOf(node_of, p);
    const redisReply* id = (*last)->element[0]->element[0];
    if (group["last-delivered-id"] != std::string(id->str, id->len) || group["pending"] != "0") return false;
  }
  return true;
}

// Entries the groups of `partitions` have read so far.
int64_t EntriesRead(const NodeOf& node_of, const std::vector<int>& partitions) {
  int64_t sum = 0;
  for (const int p : partitions) {
    int64_t n = 0;
    if (absl::SimpleAtoi(GroupOf(node_of, p)["entries-read"], &n)) sum += n;
  }
  return sum;
}

// Entries in the streams of `partitions`.
int64_t EntriesIn(const NodeOf& node_of, const std::vector<int>& partitions) {
  int64_t sum = 0;
  for (const int p : partitions) sum += node_of(StreamOf(p))->Integer({"XLEN", StreamOf(p)});
  return sum;
}

// Consumers in partition p's group.
size_t ConsumersOf(const NodeOf& node_of, int p) {
  absl::StatusOr<redis::Reply> consumers =
      node_of(StreamOf(p))->Run({"XINFO", "CONSUMERS", StreamOf(p), "physics-engine"});
  EXPECT_TRUE(consumers.ok()) << consumers.status();
  return consumers.ok() ? (*consumers)->elements : 0;
}

std::map<std::string, std::string> States(const NodeOf& node_of) {
  std::map<std::string, std::string> out;
  for (const std::string& s : testing::kTickCsvSymbols) {
    const std::string key = "physics:state:" + s;
    if (std::string v = testing::Get(*node_of(key), key); !v.empty()) out[s] = v;
  }
  return out;
}

// The partitions shard I of N owns that hold ticks of the csv's symbols.
std::vector<int> OwnedWithTicks(int index, int count) {
  std::set<int> out;
  for (const std::string& s : testing::kTickCsvSymbols) {
    if (const int p = Parts().Of(s); redis::ShardOwns(index, count, p)) out.insert(p);
  }
  return {out.begin(), out.end()};
}

// Every partition's DLQ holds only entries of its own stream (same id), each
// with a reason; returns how many there are in all.
int64_t ExpectDeadLettersInTheirPartitions(const NodeOf& node_of) {
  int64_t total = 0;
  for (int p = 0; p < Parts().count(); ++p) {
    const std::string dlq = DeadLettersOf(p);
    absl::StatusOr<redis::Reply> r = node_of(dlq)->Run({"XRANGE", dlq, "-", "+"});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY) continue;
    for (size_t i = 0; i < (*r)->elements; ++i) {
      const redisReply* entry = (*r)->element[i];
      const std::string id(entry->element[0]->str, entry->element[0]->len);
      EXPECT_FALSE(testing::FieldMap(*entry->element[1])["reason"].empty());
      const std::string stream = StreamOf(p);
      absl::StatusOr<redis::Reply> src = node_of(stream)->Run({"XRANGE", stream, id, id});
      EXPECT_TRUE(src.ok() && (*src)->elements == 1u) << dlq << " entry " << id << " is not in " << stream;
    }
    total += static_cast<int64_t>((*r)->elements);
  }
  return total;
}

// Ticks in a generated CSV and what a one-stream engine makes of them.
struct Fixture {
  testing::TempDir dir = *testing::TempDir::Create();
  std::string csv_path = dir.File("ticks.csv");
  std::string csv;
  std::map<std::string, std::string> expected;
  int64_t invalid = 0;  // CSV rows the schema rejects + ticks injected by physics-publish

  explicit Fixture(int buckets) {
    int invalid_rows = 0;
    csv = testing::MakeTickCsv(buckets, &invalid_rows);
    EXPECT_TRUE(testing::WriteFile(csv_path, csv).ok());
    expected = testing::ReplayCsvFile(csv_path, 1).value().states;
    const int64_t rows = static_cast<int64_t>(buckets) * 2 * testing::kTickCsvSymbols.size() + invalid_rows;
    invalid = invalid_rows + rows / kInjectEvery;
  }

  // physics-publish --to stream with `extra` flags, to completion.
  void Publish(const std::string& redis_url, std::vector<std::string> extra) const {
    std::vector<std::string> args = {"--to", "stream", "--csv", csv_path, "--rate", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    Process p = testing::SpawnWithRedis(kPublish, redis_url, args).value();
    absl::StatusOr<testing::ExitStatus> st = p.Wait(absl::Seconds(30));
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(st->exit_code, 0) << p.ReadStderr();
  }
};

Process SpawnShard(const std::string& redis_url, int index) {
  return testing::SpawnWithRedis(kEngine, redis_url,
                                 {"--feed", "stream", "--shard", absl::StrCat(index, "/2")})
      .value();
}

void ExpectPromptCleanExit(Process& engine) {
  ASSERT_TRUE(engine.Signal(SIGTERM).ok());
  absl::StatusOr<testing::ExitStatus> st = engine.Wait(absl::Seconds(3));
  ASSERT_TRUE(st.ok()) << "still running 3 s after SIGTERM";
  EXPECT_EQ(st->exit_code, 0) << engine.ReadStderr();
}

// Shards 0/2 and 1/2 read every partition to its end: the states are the
// one-stream ones and every rejected entry is in its partition's DLQ.
// Returns the two engines, still running (none when they did not finish).
std::vector<Process> RunTwoShardsToTheEnd(const std::string& redis_url, const NodeOf& node_of,
                                          const Fixture& fixture) {
  std::vector<Process> shards;
  for (const int index : {0, 1}) shards.push_back(SpawnShard(redis_url, index));
  if (absl::Status s = Eventually([&] { return Drained(node_of); }, absl::Seconds(30)); !s.ok()) {
    ADD_FAILURE() << s << shards[0].ReadStderr() << shards[1].ReadStderr();
    return {};
  }
  EXPECT_EQ(States(node_of), fixture.expected);
  EXPECT_EQ(ExpectDeadLettersInTheirPartitions(node_of), fixture.invalid);
  return shards;
}

TEST(PartitionedStreams, PublishWritesEachTickToItsSymbolsPartitionStreamOnACluster) {
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  const Fixture fixture(200);
  fixture.Publish(cluster.url(), {});

  std::map<int, int64_t> expected;  // partition -> rows of its symbols
  const std::vector<std::string> lines = absl::StrSplit(fixture.csv, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields[0] == "timestamp") continue;
    ++expected[Parts().Of(absl::AsciiStrToUpper(fields[1]))];
  }
  ASSERT_GE(expected.size(), 4u);
  const NodeOf node_of = OnCluster(cluster);
  for (int p = 0; p < Parts().count(); ++p) {
    EXPECT_EQ(node_of(StreamOf(p))->Integer({"XLEN", StreamOf(p)}), expected[p]) << StreamOf(p);
  }
  EXPECT_EQ(node_of("market:ticks")->Integer({"EXISTS", "market:ticks"}), 0) << "no unpartitioned stream";
}

TEST(PartitionedStreams, TwoShardsOnAClusterEndInTheStateOfOneStream) {
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  const Fixture fixture(600);
  fixture.Publish(cluster.url(), {"--invalid-every", absl::StrCat(kInjectEvery)});
  ASSERT_FALSE(OwnedWithTicks(0, 2).empty());
  ASSERT_FALSE(OwnedWithTicks(1, 2).empty());

  std::vector<Process> shards = RunTwoShardsToTheEnd(cluster.url(), OnCluster(cluster), fixture);
  ASSERT_EQ(shards.size(), 2u);
  // physics-status counts the partitions' DLQs.
  const testing::RunResult status = testing::RunToCompletion(
      {kStatus, "--redis-url", cluster.url(), "--bridge-url", "", "--check", "dlq", "--timeout", "1"});
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;  // WARN: above --max-dlq 0
  EXPECT_NE(status.out.find(absl::StrCat(": ", fixture.invalid, " rejected ticks")), std::string::npos)
      << status.out;
  const std::string log = shards[1].ReadStderr();  // SPY's shard
  EXPECT_NE(log.find(absl::StrCat("rejected tick (stream ", StreamOf(Parts().Of("SPY")), " entry ")),
            std::string::npos)
      << log;
  for (Process& shard : shards) ExpectPromptCleanExit(shard);
}

TEST(PartitionedStreams, AShardKilledMidStreamAndRestartedEndsInTheSameState) {
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  const Fixture fixture(3000);
  fixture.Publish(cluster.url(), {"--invalid-every", absl::StrCat(kInjectEvery)});
  const NodeOf node_of = OnCluster(cluster);
  const std::vector<int> owned = OwnedWithTicks(1, 2);
  const int64_t total = EntriesIn(node_of, owned);

  Process first = SpawnShard(cluster.url(), 0);
  {
    Process killed = SpawnShard(cluster.url(), 1);
    ASSERT_TRUE(Eventually([&] { return EntriesRead(node_of, owned) >= total / 2; }, absl::Seconds(30)).ok())
        << killed.ReadStderr();
    killed.Kill();
  }
  EXPECT_LT(EntriesRead(node_of, owned), total) << "the shard finished before it could be killed";
  Process restarted = SpawnShard(cluster.url(), 1);
  ASSERT_TRUE(Eventually([&] { return Drained(node_of); }, absl::Seconds(30)).ok()) << restarted.ReadStderr();

  EXPECT_EQ(States(node_of), fixture.expected);
  EXPECT_EQ(ExpectDeadLettersInTheirPartitions(node_of), fixture.invalid);
  const std::string log = restarted.ReadStderr();
  for (const int p : owned) {
    EXPECT_NE(log.find(absl::StrCat("stream ", StreamOf(p), ": warm start done")), std::string::npos) << log;
    // The killed consumer's entries were taken over; only the live one is left.
    EXPECT_EQ(ConsumersOf(node_of, p), 1u) << StreamOf(p);
  }
  ExpectPromptCleanExit(first);
  ExpectPromptCleanExit(restarted);
}

// A manual CLUSTER FAILOVER loses no write: the partition's feed follows its
// slot to the promoted replica (MOVED, a refreshed slot map) and reads on.
TEST(PartitionedStreams, AFailoverOfAPartitionsMasterMidStreamEndsInTheSameState) {
  testing::ClusterSet cluster;  // 3 masters, 1 replica each
  ASSERT_TRUE(cluster.Start().ok());
  const Fixture fixture(3000);
  fixture.Publish(cluster.url(), {"--invalid-every", absl::StrCat(kInjectEvery)});
  const NodeOf node_of = OnCluster(cluster);
  const std::string spy_stream = StreamOf(Parts().Of("SPY"));
  const int64_t total = node_of(spy_stream)->Integer({"XLEN", spy_stream});

  Process first = SpawnShard(cluster.url(), 0), second = SpawnShard(cluster.url(), 1);
  ASSERT_TRUE(Eventually([&] { return EntriesRead(node_of, {Parts().Of("SPY")}) >= total / 3; },
                         absl::Seconds(30))
                  .ok())
      << second.ReadStderr();
  absl::StatusOr<size_t> master = cluster.MasterOf(redis::KeySlot(spy_stream));
  ASSERT_TRUE(master.ok());
  absl::StatusOr<size_t> replica = cluster.ReplicaOf(*master);
  ASSERT_TRUE(replica.ok());
  ASSERT_TRUE(cluster.Failover(*replica, absl::Seconds(20)).ok());
  EXPECT_LT(EntriesRead(node_of, {Parts().Of("SPY")}), total) << "read to the end before the failover";
  ASSERT_TRUE(Eventually([&] { return Drained(node_of); }, absl::Seconds(30)).ok()) << second.ReadStderr();

  EXPECT_EQ(States(node_of), fixture.expected);
  EXPECT_EQ(ExpectDeadLettersInTheirPartitions(node_of), fixture.invalid);
  EXPECT_NE(second.ReadStderr().find(absl::StrCat("stream ", spy_stream, ": Redis at")), std::string::npos)
      << second.ReadStderr();
  ExpectPromptCleanExit(first);
  ExpectPromptCleanExit(second);
}

TEST(PartitionedStreams, ShardsOnOneServerReadTheirPartitionStreams) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const Fixture fixture(600);
  fixture.Publish(server.url(), {"--partitions", absl::StrCat(redis::kDefaultPartitions),
                                 "--invalid-every", absl::StrCat(kInjectEvery)});
  EXPECT_EQ(server.Integer({"EXISTS", "market:ticks"}), 0) << "no unpartitioned stream";

  for (Process& shard : RunTwoShardsToTheEnd(server.url(), OnServer(server), fixture)) {
    ExpectPromptCleanExit(shard);
  }
}

// Live ticks on one partition while the shard's other partitions stay empty:
// each loop tick closes once the grace after its bucket has passed.
TEST(PartitionedStreams, LiveTicksOnAQuietShardAreWrittenAfterTheGrace) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Process shard = testing::SpawnWithRedis(kEngine, server.url(),
                                          {"--feed", "stream", "--shard", "1/2", "--hz", "4",
                                           "--stream-grace-ms", "100"})
                      .value();
  const std::string stream = StreamOf(Parts().Of("SPY"));
  for (int64_t seq = 1; seq <= 3; ++seq) {
    const int64_t micros = absl::ToUnixMicros(absl::Now());
    const std::string now = absl::StrCat(micros / 1000000, ".", absl::Dec(micros % 1000000, absl::kZeroPad6));
    ASSERT_TRUE(server.Run({"XADD", stream, "*", "symbol", "SPY", "price", absl::StrCat(400 + seq), "size", "1",
                            "trades", "1", "timestamp", now})
                    .ok());
    ASSERT_TRUE(Eventually([&] { return testing::StateSeq(server, "SPY") == seq; }, absl::Seconds(5)).ok())
        << shard.ReadStderr();
  }
  EXPECT_TRUE(Eventually([&] { return Drained(OnServer(server)); }).ok()) << "acknowledged after the write";
  ExpectPromptCleanExit(shard);
}

// Standby on partitioned streams (docs/engine.md, "Standby and fencing"): two
// engines for shard 1/2 with --leader-lease; the first leads, the second,
// started once the first holds the lease ops:leader:engine:1/2, follows every
// owned partition without consuming it.
constexpr int kLeaseSeconds = 2;

Process SpawnLeaseShard(const std::string& redis_url) {
  return testing::SpawnWithRedis(kEngine, redis_url,
                                 {"--feed", "stream", "--shard", "1/2", "--leader-lease",
                                  absl::StrCat(kLeaseSeconds)})
      .value();
}

bool StderrHas(Process& p, std::string_view text) { return p.ReadStderr().find(text) != std::string::npos; }

struct LeasePair {
  explicit LeasePair(const std::string& redis_url) : leader(SpawnLeaseShard(redis_url)) {
    EXPECT_TRUE(Eventually([&] { return StderrHas(leader, "leading: holding the leader lease"); },
                           absl::Seconds(15)).ok()) << leader.ReadStderr();
    standby.emplace(SpawnLeaseShard(redis_url));
  }
  Process leader;
  std::optional<Process> standby;
};

// Nothing pending in the group of any partition.
int64_t PendingInAllGroups(const NodeOf& node_of) {
  int64_t sum = 0;
  for (int p = 0; p < Parts().count(); ++p) {
    int64_t n = 0;
    if (absl::SimpleAtoi(GroupOf(node_of, p)["pending"], &n)) sum += n;
  }
  return sum;
}

TEST(PartitionedStreams, ShardLeaderKilledMidStreamOnAClusterAndTheStandbyEndsInTheSameState) {
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  const Fixture fixture(3000);
  fixture.Publish(cluster.url(), {"--invalid-every", absl::StrCat(kInjectEvery)});
  const NodeOf node_of = OnCluster(cluster);
  const std::vector<int> owned = OwnedWithTicks(1, 2);
  ASSERT_GE(owned.size(), 2u);
  const int64_t total = EntriesIn(node_of, owned);

  Process other = SpawnShard(cluster.url(), 0);
  LeasePair pair(cluster.url());
  Process& standby = *pair.standby;
  ASSERT_TRUE(Eventually([&] { return EntriesRead(node_of, owned) >= total / 2; }, absl::Seconds(30)).ok())
      << pair.leader.ReadStderr();
  // Following takes nothing from the groups: the leader is their only consumer.
  for (const int p : owned) EXPECT_EQ(ConsumersOf(node_of, p), 1u) << StreamOf(p);
  pair.leader.Kill();
  const absl::Time killed = absl::Now();
  EXPECT_LT(EntriesRead(node_of, owned), total) << "the leader finished before it could be killed";
  ASSERT_TRUE(Eventually([&] { return StderrHas(standby, "first write as leader"); }, absl::Seconds(15)).ok())
      << standby.ReadStderr();
  // Behaviour, not a benchmark: within the lease and a generous margin (the
  // standby may trail the leader's replay of the history, and catches up
  // first); printed for the record.
  const absl::Duration to_write = absl::Now() - killed;
  EXPECT_LT(to_write, absl::Seconds(kLeaseSeconds + 4));
  std::cout << "[failover] SIGKILL of a partitioned-stream shard leader on a cluster -> first write of "
               "the standby: "
            << absl::ToDoubleMilliseconds(to_write) << " ms (lease 2 s)\n";
  ASSERT_TRUE(Eventually([&] { return Drained(node_of); }, absl::Seconds(30)).ok()) << standby.ReadStderr();

  EXPECT_EQ(States(node_of), fixture.expected);  // seq included: it continued exactly
  EXPECT_EQ(ExpectDeadLettersInTheirPartitions(node_of), fixture.invalid);
  EXPECT_EQ(PendingInAllGroups(node_of), 0);
  const std::string log = standby.ReadStderr();
  for (const int p : owned) {
    EXPECT_NE(log.find(absl::StrCat("stream ", StreamOf(p), ": group physics-engine, consumer ")),
              std::string::npos) << log;
  }
  EXPECT_NE(log.find("taking over: followed up to"), std::string::npos) << log;
  EXPECT_EQ(log.find("warm start"), std::string::npos) << log;
  ExpectPromptCleanExit(other);
  ExpectPromptCleanExit(standby);
}

// On one server, partitioned for --shard: the fixture's buckets before
// `first_live` through physics-publish; the rest for AppendLive.
void PublishHistory(const RedisServer& server, const Fixture& fixture, int first_live) {
  const std::string history =
      testing::TickCsvRowsBefore(fixture.csv, testing::kTickCsvFirstSecond + first_live);
  ASSERT_TRUE(testing::WriteFile(fixture.dir.File("history.csv"), history).ok());
  Process publish = testing::SpawnWithRedis(kPublish, server.url(),
                                            {"--to", "stream", "--csv", fixture.dir.File("history.csv"), "--rate",
                                             "0", "--partitions", absl::StrCat(redis::kDefaultPartitions)})
                        .value();
  ASSERT_EQ(publish.Wait(absl::Seconds(30))->exit_code, 0) << publish.ReadStderr();
}

// The fixture's buckets [from, to), `step` at a time, each step appended to
// the partition streams atomically and read and acknowledged to the end
// before the next.
void AppendLive(const RedisServer& server, const Fixture& fixture, int from, int to, int step, Process& engine) {
  constexpr int64_t kFirst = testing::kTickCsvFirstSecond;
  for (int b = from; b < to; b += step) {
    ASSERT_TRUE(testing::AppendTickCsvRowsAtomically(
                    server, fixture.csv, kFirst + b, kFirst + std::min(b + step, to),
                    [](const std::string& symbol) { return StreamOf(Parts().Of(absl::AsciiStrToUpper(symbol))); })
                    .ok());
    ASSERT_TRUE(Eventually([&] { return Drained(OnServer(server)); }, absl::Seconds(15)).ok())
        << engine.ReadStderr();
  }
}

// A standby that follows live entries (up to the head of every partition,
// while the leader acknowledges them partition by partition) closes its
// loop ticks where the leader did: after the leader is SIGKILLed it takes
// over and ends in the states of one stream.
TEST(PartitionedStreams, AStandbyFollowingLiveEntriesTakesOverInTheSameState) {
  constexpr int kBuckets = 800, kLive = 240, kAfterKill = 40;
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const Fixture fixture(kBuckets);
  PublishHistory(server, fixture, kBuckets - kLive);
  Process other = SpawnShard(server.url(), 0);
  LeasePair pair(server.url());
  Process& standby = *pair.standby;
  ASSERT_TRUE(Eventually([&] { return Drained(OnServer(server)); }, absl::Seconds(30)).ok())
      << pair.leader.ReadStderr();
  AppendLive(server, fixture, kBuckets - kLive, kBuckets - kAfterKill, 4, pair.leader);
  pair.leader.Kill();
  AppendLive(server, fixture, kBuckets - kAfterKill, kBuckets, 4, standby);

  EXPECT_EQ(States(OnServer(server)), fixture.expected);  // seq included: it continued exactly
  EXPECT_EQ(PendingInAllGroups(OnServer(server)), 0);
  const std::string log = standby.ReadStderr();
  EXPECT_NE(log.find("taking over: followed up to"), std::string::npos) << log;
  EXPECT_EQ(log.find("warm start"), std::string::npos) << log;
  ExpectPromptCleanExit(other);
  ExpectPromptCleanExit(standby);
}

// A leader stalled past the lease (SIGSTOP) that wakes up after the takeover
// takes nothing more from any partition's group; the new leader takes every
// entry that arrives meanwhile, nothing stays pending, the states are those
// of one stream.
TEST(PartitionedStreams, ShardLeaderStalledPastTheLeaseLeavesNothingPendingAndTheSameState) {
  constexpr int kBuckets = 1200, kLater = 200;  // the last kLater buckets come after the wake-up
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const Fixture fixture(kBuckets);
  PublishHistory(server, fixture, kBuckets - kLater);
  const NodeOf node_of = OnServer(server);
  const std::vector<int> owned = OwnedWithTicks(1, 2);

  Process other = SpawnShard(server.url(), 0);
  LeasePair pair(server.url());
  Process& standby = *pair.standby;
  // Stalled while waiting for entries, so that on waking it would read
  // before it writes (and so learns nothing of the takeover from a write).
  ASSERT_TRUE(Eventually([&] { return Drained(node_of); }, absl::Seconds(30)).ok()) << pair.leader.ReadStderr();
  ASSERT_TRUE(pair.leader.Signal(SIGSTOP).ok());
  ASSERT_TRUE(Eventually([&] { return StderrHas(standby, "leading: holding the leader lease"); },
                         absl::Seconds(15)).ok()) << standby.ReadStderr();
  ASSERT_TRUE(pair.leader.Signal(SIGCONT).ok());
  AppendLive(server, fixture, kBuckets - kLater, kBuckets, kLater / 5, standby);
  ASSERT_TRUE(Eventually([&] { return StderrHas(pair.leader, "lost the leader lease"); }, absl::Seconds(10)).ok())
      << pair.leader.ReadStderr();

  EXPECT_EQ(States(node_of), fixture.expected);
  EXPECT_EQ(PendingInAllGroups(node_of), 0);
  for (const int p : owned) {  // the new leader is the only consumer left reading
    absl::StatusOr<redis::Reply> consumers = server.Run({"XINFO", "CONSUMERS", StreamOf(p), "physics-engine"});
    ASSERT_TRUE(consumers.ok());
    for (size_t i = 0; i < (*consumers)->elements; ++i) {
      std::map<std::string, std::string> c = testing::FieldMap(*(*consumers)->element[i]);
      if (c["name"].find(absl::StrCat("-", standby.pid())) == std::string::npos) {
        EXPECT_EQ(c["pending"], "0") << StreamOf(p) << " " << c["name"];
      }
    }
  }
  EXPECT_TRUE(absl::EndsWith(testing::Get(server, "ops:leader:engine:1/2"), absl::StrCat("-", standby.pid())));
  ExpectPromptCleanExit(other);
  ExpectPromptCleanExit(standby);
  ExpectPromptCleanExit(pair.leader);  // a follower again
}

}  // namespace
}  // namespace physics
