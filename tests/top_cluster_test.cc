// physics-top's StateSource against a real Redis Cluster (3 masters + 3
// replicas on loopback), in process so each step can be watched: it primes
// from every master, follows a partition channel, and after a manual
// failover of that channel's master says so on the status line, subscribes
// again on the promoted master and primes again (docs/SPEC.md §9).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/redis/cluster.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/state_json.h"
#include "tools/top/state_source.h"
#include "tools/top/symbol_table.h"

namespace physics {
namespace {

using testing::ClusterSet;
using testing::Eventually;
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

}  // namespace
}  // namespace physics
