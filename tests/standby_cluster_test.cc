// A standby engine on a Redis Cluster (--leader-lease with redis-cluster://,
// docs/SPEC.md §9, docs/engine.md "Standby and fencing") end to end: real
// engine processes on the same simulated feed and a ClusterSet (3 masters,
// a replica each). Only the lease holder writes; a killed leader is replaced
// within the lease plus a tick; a stalled leader that wakes up lands nothing
// after the takeover; a master failover under the leader changes nothing
// about who leads.
#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/feed/sim_feed.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/seq_floor.h"
#include "tests/support/sharded_subscriber.h"

namespace physics {
namespace {

using testing::ClusterSet;
using testing::EngineId;
using testing::Eventually;
using testing::Process;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr std::string_view kLeaseKey = "ops:leader:engine";
constexpr int kSymbols = 40;

Process SpawnEngine(ClusterSet& cluster) {
  return testing::SpawnWithRedis(kEngine, cluster.url(),
                                 {"--feed", "sim", "--seed", "7", "--symbols", absl::StrCat(kSymbols),
                                  "--hz", "10", "--leader-lease", "2"})
      .value();
}

// The value of `key` on the master serving it ("" when absent or unreachable).
std::string ClusterGet(ClusterSet& cluster, std::string_view key) {
  absl::StatusOr<size_t> node = cluster.MasterOf(redis::KeySlot(key));
  return node.ok() ? testing::Get(cluster.node(*node), key) : "";
}

std::map<std::string, int64_t> StoredSeqs(ClusterSet& cluster) {
  std::map<std::string, int64_t> out;
  for (const std::string& s : feed::DefaultSymbols(kSymbols)) {
    out[s] = testing::SeqOf(ClusterGet(cluster, "physics:state:" + s));
  }
  return out;
}

bool StderrHas(Process& p, std::string_view text) { return p.ReadStderr().find(text) != std::string::npos; }

// Along every symbol's messages seq strictly increases (docs/SPEC.md §9: the
// new leader goes on from max(its own count, the stored seq) + 1, so numbers
// may be skipped at the takeover, never repeated or gone back to).
void ExpectSeqsIncrease(const std::map<std::string, std::vector<std::string>>& messages) {
  int skipping = 0;
  for (const auto& [symbol, payloads] : messages) {
    int64_t last = 0;
    bool skipped = false;
    for (size_t i = 0; i < payloads.size(); ++i) {
      const int64_t seq = testing::SeqOf(payloads[i]);
      EXPECT_GT(seq, last) << symbol << " message #" << i;
      skipped |= last > 0 && seq > last + 1;
      last = seq;
    }
    skipping += skipped ? 1 : 0;
  }
  std::cout << "[cluster standby] " << messages.size() << " symbols, " << skipping
            << " of them skipped seqs at the takeover\n";
}

// Two engines, the first leading: returns once the second stands by.
struct Pair {
  explicit Pair(ClusterSet& cluster) : leader(SpawnEngine(cluster)) {
    EXPECT_TRUE(Eventually([&] { return ClusterGet(cluster, kLeaseKey) == EngineId(leader); },
                           absl::Seconds(15)).ok())
        << leader.ReadStderr();
    standby = SpawnEngine(cluster);
    const std::string hb = absl::StrCat("ops:hb:engine:", EngineId(*standby));
    EXPECT_TRUE(Eventually([&] { return !ClusterGet(cluster, hb).empty(); }, absl::Seconds(15)).ok())
        << standby->ReadStderr();
  }
  Process leader;
  std::optional<Process> standby;
};

TEST(StandbyOnCluster, TakesOverWithinTheLeaseWhenTheLeaderIsKilledAndSeqGoesOn) {
  ClusterSet cluster;
  ASSERT_TRUE(cluster.Start().ok());
  testing::ShardedSubscriber subscriber(cluster, redis::Partitioning(redis::kDefaultPartitions));
  Pair pair(cluster);
  ASSERT_TRUE(Eventually([&] { return subscriber.count() >= 10 * kSymbols; }, absl::Seconds(15)).ok());
  EXPECT_FALSE(StderrHas(*pair.standby, "leading")) << pair.standby->ReadStderr();
  const std::map<std::string, int64_t> before = StoredSeqs(cluster);

  ASSERT_TRUE(pair.leader.Signal(SIGKILL).ok());
  const absl::Time killed = absl::Now();
  // The dying leader's last messages arrive within a millisecond or so; the
  // first one counted after 200 ms is the standby's.
  absl::SleepFor(absl::Milliseconds(200));
  const int64_t settled = subscriber.count();
  ASSERT_TRUE(Eventually([&] { return subscriber.count() > settled; }, absl::Seconds(10),
                         absl::Milliseconds(2)).ok());
  const absl::Duration gap = absl::Now() - killed;
  std::cout << "[cluster standby] SIGKILL of the leader -> first message of the standby: "
            << absl::ToDoubleMilliseconds(gap) << " ms (lease 2 s, 10 Hz)\n";
  EXPECT_LT(gap, absl::Seconds(4));  // lease + a tick is the target; the figure is printed

  const int64_t at_takeover = subscriber.count();
  ASSERT_TRUE(Eventually([&] { return subscriber.count() >= at_takeover + 10 * kSymbols; },
                         absl::Seconds(15)).ok());
  EXPECT_EQ(ClusterGet(cluster, kLeaseKey), EngineId(*pair.standby));
  EXPECT_TRUE(StderrHas(*pair.standby, "first write as leader")) << pair.standby->ReadStderr();
  EXPECT_FALSE(StderrHas(*pair.standby, "lost the leader lease")) << pair.standby->ReadStderr();
  const std::map<std::string, int64_t> after = StoredSeqs(cluster);
  for (const auto& [symbol, seq] : before) EXPECT_GT(after.at(symbol), seq) << symbol;
  ExpectSeqsIncrease(subscriber.messages());
}

TEST(StandbyOnCluster, AStalledLeaderThatWakesUpLandsNoWriteAfterTheTakeover) {
  ClusterSet cluster;
  ASSERT_TRUE(cluster.Start().ok());
  testing::ShardedSubscriber subscriber(cluster, redis::Partitioning(redis::kDefaultPartitions));
  Pair pair(cluster);
  ASSERT_TRUE(Eventually([&] { return subscriber.count() >= 10 * kSymbols; }, absl::Seconds(15)).ok());

  ASSERT_TRUE(pair.leader.Signal(SIGSTOP).ok());
  ASSERT_TRUE(Eventually([&] { return StderrHas(*pair.standby, "first write as leader"); },
                         absl::Seconds(15)).ok())
      << pair.standby->ReadStderr();
  testing::SeqFloor floor(StoredSeqs(cluster));
  ASSERT_TRUE(pair.leader.Signal(SIGCONT).ok());

  // Until the old leader has noticed, and for a few ticks after: stored seqs
  // never go backwards.
  const auto sample = [&] { floor.Sample(StoredSeqs(cluster)); };
  EXPECT_TRUE(Eventually([&] {
    sample();
    return StderrHas(pair.leader, "lost the leader lease");
  }, absl::Seconds(10)).ok())
      << pair.leader.ReadStderr();
  const int64_t at_notice = subscriber.count();
  ASSERT_TRUE(Eventually([&] {
    sample();
    return subscriber.count() >= at_notice + 10 * kSymbols;
  }, absl::Seconds(10)).ok());
  EXPECT_FALSE(floor.went_backwards());
  EXPECT_EQ(ClusterGet(cluster, kLeaseKey), EngineId(*pair.standby));
  ExpectSeqsIncrease(subscriber.messages());
  EXPECT_TRUE(pair.leader.running());  // a standby now, not dead
}

TEST(StandbyOnCluster, AMasterFailoverUnderTheLeaderKeepsItLeadingAlone) {
  ClusterSet cluster;
  ASSERT_TRUE(cluster.Start().ok());
  Pair pair(cluster);
  ASSERT_TRUE(Eventually([&] {
    for (const auto& [symbol, seq] : StoredSeqs(cluster)) {
      if (seq < 5) return false;
    }
    return true;
  }, absl::Seconds(15)).ok());

  // The master holding the lease (and one copy) hands over to its replica.
  absl::StatusOr<size_t> master = cluster.MasterOf(redis::KeySlot(kLeaseKey));
  ASSERT_TRUE(master.ok());
  absl::StatusOr<size_t> replica = cluster.ReplicaOf(*master);
  ASSERT_TRUE(replica.ok());
  ASSERT_TRUE(cluster.Failover(*replica, absl::Seconds(30)).ok());
  const std::map<std::string, int64_t> at_failover = StoredSeqs(cluster);

  // Every symbol moves on by 20 loop ticks, written by the same leader.
  testing::SeqFloor floor(at_failover);
  ASSERT_TRUE(Eventually([&] {
    const std::map<std::string, int64_t> seqs = StoredSeqs(cluster);
    floor.Sample(seqs);
    for (const auto& [symbol, seq] : seqs) {
      if (seq < at_failover.at(symbol) + 20) return false;
    }
    return true;
  }, absl::Seconds(30)).ok())
      << pair.leader.ReadStderr();
  EXPECT_FALSE(floor.went_backwards());
  EXPECT_EQ(ClusterGet(cluster, kLeaseKey), EngineId(pair.leader));
  EXPECT_FALSE(StderrHas(pair.leader, "lost the leader lease")) << pair.leader.ReadStderr();
  EXPECT_FALSE(StderrHas(*pair.standby, "leading")) << pair.standby->ReadStderr();
  // A manual failover loses no write: the promoted replica holds the copy,
  // and the write script was loaded on it beforehand, so no unit was refused.
  EXPECT_FALSE(StderrHas(pair.leader, "rejected part of a write")) << pair.leader.ReadStderr();
}

}  // namespace
}  // namespace physics
