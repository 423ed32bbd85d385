// ClusterSet forms a working cluster and its helpers do what they say.
#include "tests/support/cluster_set.h"

#include "engine/redis/key_slot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_reads.h"

namespace physics::testing {
namespace {

using ::testing::HasSubstr;

TEST(ClusterSet, FormsThreeMastersWithAReplicaEachAndMigratesASlot) {
  ClusterSet cluster({.password = "pw"});
  const absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_EQ(cluster.node_count(), 6u);
  EXPECT_THAT(cluster.url(), HasSubstr("redis-cluster://127.0.0.1:"));
  EXPECT_EQ(cluster.config().password, "pw");

  const uint16_t slot = redis::KeySlot("k");
  absl::StatusOr<size_t> master = cluster.MasterOf(slot);
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ(cluster.node(*master).String({"SET", "k", "v"}), "OK");
  absl::StatusOr<size_t> replica = cluster.ReplicaOf(*master);
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_NE(*replica, *master);

  // Masters split the slots in order: the other end of the slot space is
  // served by another master.
  absl::StatusOr<size_t> other = cluster.MasterOf(slot < redis::kClusterSlots / 2 ? 16383 : 0);
  ASSERT_TRUE(other.ok()) << other.status();
  const size_t to = *other;
  ASSERT_NE(to, *master);
  ASSERT_TRUE(cluster.BeginSlotMigration(slot, *master, to).ok());
  absl::StatusOr<int> moved = cluster.MigrateKeys(slot, *master, to, 100);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 1);
  ASSERT_TRUE(cluster.FinishSlotMigration(slot, *master, to).ok());
  ASSERT_TRUE(cluster.WaitForClusterOk(absl::Seconds(10)).ok());
  EXPECT_EQ(cluster.MasterOf(slot).value_or(99), to);
  EXPECT_EQ(Get(cluster.node(to), "k"), "v");
}

}  // namespace
}  // namespace physics::testing
