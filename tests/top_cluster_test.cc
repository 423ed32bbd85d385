// physics-top's StateSource against a real Redis Cluster (3 masters + 3
// replicas on loopback), in process so each step can be watched: it primes
// from every master, follows a partition channel, and after a manual
// failover of that channel's master says so on the status line, subscribes
// again on the promoted master and primes again (docs/SPEC.md §9); while a
// master without a replica is stopped, it follows the other two and takes
// the stopped one back when it returns. With two
// real engine shards writing, every symbol keeps updating after a master is
// killed (its replica promoted) and after a partition channel's slot moves.
#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
#include "tools/top/state_source.h"
#include "tools/top/symbol_table.h"

namespace physics {
namespace {

using testing::ClusterSet;
using testing::Eventually;
using testing::Process;
using testing::StateEventJson;
using testing::StateJson;

// The mass physics-top holds for `symbol`, or -1 when it has no row.
double MassOf(const top::SymbolTable& table, const std::string& symbol) {
  for (const top::Row* row : table.View("", top::SortKey::kSymbol, false)) {
    if (row->symbol == symbol) return row->state.mass;
  }
  return -1;
}

TEST(TopStateSource, FollowsAPartitionAndResubscribesAndReprimesAfterAFailover) {
  ClusterSet set;
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(set.config(), absl::Seconds(1), absl::Seconds(2));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const redis::Partitioning parts;
  const std::string symbol = "SPY";
  const std::string key = "physics:state:" + symbol;
  const std::string channel = parts.Channel(set.config(), parts.Of(symbol));
  ASSERT_TRUE(cluster->Command(key, {"SET", key, StateJson(1, 1)}).ok());

  top::SymbolTable table;
  top::StateSource source(set.config(), table);
  std::vector<std::string> statuses;
  auto poll = [&] {
    source.Poll(absl::Now());
    if (statuses.empty() || statuses.back() != source.status()) statuses.push_back(source.status());
  };
  ASSERT_TRUE(Eventually([&] { return poll(), source.connected(); }).ok()) << source.status();
  EXPECT_EQ(source.fds().size(), 3u);  // one subscription per master
  EXPECT_EQ(MassOf(table, symbol), 1);

  // A message on SPY's partition channel.
  ASSERT_TRUE(cluster->Command(channel, {"SPUBLISH", channel, StateEventJson(symbol, 2, 2)}).ok());
  ASSERT_TRUE(Eventually([&] { return poll(), MassOf(table, symbol) == 2; }).ok()) << source.status();

  // Fail over the master of the channel's slot.
  absl::StatusOr<size_t> master = set.MasterOf(parts.Slot(parts.Of(symbol)));
  ASSERT_TRUE(master.ok()) << master.status();
  absl::StatusOr<size_t> replica = set.ReplicaOf(*master);
  ASSERT_TRUE(replica.ok()) << replica.status();
  ASSERT_TRUE(set.Failover(*replica, absl::Seconds(15)).ok());
  // Stored while physics-top is not subscribed there: only priming again brings it.
  ASSERT_TRUE(cluster->Command(key, {"SET", key, StateJson(3, 3)}).ok());
  ASSERT_TRUE(Eventually([&] { return poll(), source.connected() && MassOf(table, symbol) == 3; },
                         absl::Seconds(15))
                  .ok())
      << source.status();
  // The status line said why in between.
  bool said = false;
  for (const std::string& s : statuses) said |= absl::StrContains(s, "sunsubscribe");
  EXPECT_TRUE(said) << "statuses seen: " << absl::StrJoin(statuses, " | ");
  EXPECT_EQ(source.status(), "");

  // Subscribed on the promoted master.
  ASSERT_TRUE(cluster->Command(channel, {"SPUBLISH", channel, StateEventJson(symbol, 4, 4)}).ok());
  ASSERT_TRUE(Eventually([&] { return poll(), MassOf(table, symbol) == 4; }).ok()) << source.status();
}

TEST(TopStateSource, FollowsTheOtherMastersWhileOneIsDownAndTakesItBackWhenItReturns) {
  // No replica to promote, no full coverage: the master stays out, the others serve.
  ClusterSet set({.replicas_per_master = 0, .require_full_coverage = false});
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(set.config(), absl::Seconds(1), absl::Seconds(2));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const redis::Partitioning parts;
  // 12 stored states: each master holds some.
  for (int i = 0; i < 12; ++i) {
    const std::string key = absl::StrCat("physics:state:S", i);
    ASSERT_TRUE(cluster->Command(key, {"SET", key, StateJson(1, 1)}).ok());
  }
  absl::StatusOr<size_t> victim = set.MasterOf(0);
  ASSERT_TRUE(victim.ok()) << victim.status();
  std::vector<std::string> on_victim, elsewhere;
  for (int i = 0; i < 12; ++i) {
    const std::string symbol = absl::StrCat("S", i);
    (set.MasterOf(redis::KeySlot("physics:state:" + symbol)).value_or(*victim) == *victim ? on_victim : elsewhere)
        .push_back(symbol);
  }
  ASSERT_FALSE(on_victim.empty());
  ASSERT_FALSE(elsewhere.empty());
  // A symbol whose partition channel a surviving master serves.
  std::string live_symbol;
  for (int i = 0; live_symbol.empty(); ++i) {
    const std::string symbol = absl::StrCat("L", i);
    if (set.MasterOf(parts.Slot(parts.Of(symbol))).value_or(*victim) != *victim) live_symbol = symbol;
  }
  const std::string live_channel = parts.Channel(set.config(), parts.Of(live_symbol));
  // Stopped (SIGSTOP), so its states are still there when it returns.
  ASSERT_TRUE(set.node(*victim).Pause().ok());

  top::SymbolTable table;
  top::StateSource source(set.config(), table);
  ASSERT_TRUE(Eventually([&] { return source.Poll(absl::Now()), source.connected(); }).ok()) << source.status();
  EXPECT_EQ(source.fds().size(), 2u);
  const std::string victim_address = absl::StrCat("127.0.0.1:", set.node(*victim).port());
  EXPECT_TRUE(absl::StrContains(source.status(), "not following 1 of 3 masters")) << source.status();
  EXPECT_TRUE(absl::StrContains(source.status(), victim_address)) << source.status();
  for (const std::string& symbol : elsewhere) EXPECT_EQ(MassOf(table, symbol), 1) << symbol;
  for (const std::string& symbol : on_victim) EXPECT_EQ(MassOf(table, symbol), -1) << symbol;
  // Live through a surviving master.
  ASSERT_TRUE(cluster->Command(live_channel, {"SPUBLISH", live_channel, StateEventJson(live_symbol, 5, 1)}).ok());
  ASSERT_TRUE(Eventually([&] { return source.Poll(absl::Now()), MassOf(table, live_symbol) == 5; }).ok())
      << source.status();

  // Back: subscribed there too, its states primed.
  ASSERT_TRUE(set.node(*victim).Resume().ok());
  ASSERT_TRUE(Eventually([&] {
                source.Poll(absl::Now());
                return source.status().empty() && source.fds().size() == 3 && MassOf(table, on_victim[0]) == 1;
              }, absl::Seconds(20)).ok())
      << source.status();
  for (const std::string& symbol : on_victim) EXPECT_EQ(MassOf(table, symbol), 1) << symbol;
}

// Two engine shards (--shard 0/2, 1/2) write kSymbols symbols at 20 Hz to
// the cluster; physics-top's StateSource follows them.
class TopWithEnginesTest : public ::testing::Test {
 protected:
  static constexpr int kSymbols = 24;

  void SetUp() override {
    const absl::Status started = set_.Start();
    ASSERT_TRUE(started.ok()) << started;
    for (const char* shard : {"0/2", "1/2"}) {
      absl::StatusOr<Process> engine = testing::SpawnWithRedis(
          PHYSICS_ENGINE_BIN, set_.url(), {"--symbols", absl::StrCat(kSymbols), "--hz", "20", "--shard", shard});
      ASSERT_TRUE(engine.ok()) << engine.status();
      engines_.push_back(*std::move(engine));
    }
    source_.emplace(set_.config(), table_);
    const absl::Status primed = Eventually([&] {
      source_->Poll(absl::Now());
      return source_->connected() && table_.size() == kSymbols;
    }, absl::Seconds(20));
    ASSERT_TRUE(primed.ok()) << source_->status() << " " << table_.size() << " symbols\n" << EngineLogs();
    ASSERT_TRUE(EverySymbolUpdates(absl::Seconds(10)).ok()) << EngineLogs();
  }

  void TearDown() override {
    for (Process& engine : engines_) {
      EXPECT_TRUE(engine.Signal(SIGTERM).ok());
      absl::StatusOr<testing::ExitStatus> exit = engine.Wait(absl::Seconds(10));
      EXPECT_TRUE(exit.ok() && exit->exit_code == 0) << engine.ReadStderr();
    }
  }

  // Polls until every symbol has had a state_update message since the call.
  absl::Status EverySymbolUpdates(absl::Duration timeout) {
    std::map<std::string, uint64_t> before;
    for (const top::Row* row : table_.View("", top::SortKey::kSymbol, false)) before[row->symbol] = row->updates;
    return Eventually([&]() -> absl::Status {
      source_->Poll(absl::Now());
      std::vector<std::string> quiet;
      for (const top::Row* row : table_.View("", top::SortKey::kSymbol, false)) {
        if (row->updates <= before[row->symbol]) quiet.push_back(row->symbol);
      }
      if (quiet.empty() && source_->connected()) return absl::OkStatus();
      return absl::UnavailableError(absl::StrCat("no update for ", absl::StrJoin(quiet, ","), "; status \"",
                                                 source_->status(), "\""));
    }, timeout, absl::Milliseconds(20));
  }

  // The partition of the first symbol physics-top shows: its channel's slot.
  uint16_t WatchedSlot() {
    const std::vector<const top::Row*> rows = table_.View("", top::SortKey::kSymbol, false);
    return parts_.Slot(parts_.Of(rows.front()->symbol));
  }

  std::string EngineLogs() {
    std::string logs;
    for (Process& engine : engines_) absl::StrAppend(&logs, engine.ReadStderr());
    return logs;
  }

  ClusterSet set_;
  std::vector<Process> engines_;
  const redis::Partitioning parts_;
  top::SymbolTable table_;
  std::optional<top::StateSource> source_;  // once the cluster's ports are known
};

TEST_F(TopWithEnginesTest, EverySymbolKeepsUpdatingAfterAMasterIsKilledAndItsReplicaPromoted) {
  absl::StatusOr<size_t> victim = set_.MasterOf(WatchedSlot());
  ASSERT_TRUE(victim.ok()) << victim.status();
  set_.node(*victim).Kill();
  const absl::Time killed = absl::Now();
  // Its subscription ends: said on the status line.
  ASSERT_TRUE(Eventually([&] { return source_->Poll(absl::Now()), !source_->connected(); }).ok());
  EXPECT_NE(source_->status(), "");
  const absl::Status updating = EverySymbolUpdates(absl::Seconds(30));
  ASSERT_TRUE(updating.ok()) << updating << "\n" << EngineLogs();
  std::cerr << "killed master: every symbol updating in physics-top again after " << absl::Now() - killed << "\n";
  absl::StatusOr<size_t> promoted = set_.MasterOf(WatchedSlot());
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_NE(*promoted, *victim);
  EXPECT_EQ(source_->fds().size(), 3u);
  EXPECT_EQ(source_->status(), "");
}

TEST_F(TopWithEnginesTest, EverySymbolKeepsUpdatingAfterAPartitionChannelsSlotMoves) {
  const uint16_t slot = WatchedSlot();
  absl::StatusOr<size_t> from = set_.MasterOf(slot);
  ASSERT_TRUE(from.ok()) << from.status();
  absl::StatusOr<size_t> to = set_.MasterOf(slot < redis::kClusterSlots / 2 ? redis::kClusterSlots - 1 : 0);
  ASSERT_TRUE(to.ok()) << to.status();
  ASSERT_NE(*from, *to);
  ASSERT_TRUE(set_.BeginSlotMigration(slot, *from, *to).ok());
  ASSERT_TRUE(set_.MigrateKeys(slot, *from, *to, 100).ok());
  ASSERT_TRUE(set_.FinishSlotMigration(slot, *from, *to).ok());
  const absl::Time moved = absl::Now();
  ASSERT_TRUE(set_.WaitForClusterOk(absl::Seconds(15)).ok());
  ASSERT_EQ(set_.MasterOf(slot).value_or(*from), *to);
  // The old master ends the channel's subscription; physics-top subscribes
  // on the new one and the partition's symbols update again.
  const absl::Status updating = EverySymbolUpdates(absl::Seconds(15));
  ASSERT_TRUE(updating.ok()) << updating << "\n" << EngineLogs();
  std::cerr << "moved slot: every symbol updating in physics-top again after " << absl::Now() - moved << "\n";
  EXPECT_EQ(source_->status(), "");
}

}  // namespace
}  // namespace physics
