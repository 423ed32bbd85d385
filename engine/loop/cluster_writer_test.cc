#include "engine/loop/cluster_writer.h"

#include "engine/feed/sim_feed.h"
#include "engine/loop/counting_new.h"
#include "engine/redis/key_slot.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/redis_reads.h"

namespace physics::loop {
namespace {

TEST(ClusterWriter, SteadyStateLoopTickAllocatesNothing) {
  physics::testing::ClusterSet cluster({.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  feed::SimFeed sim(feed::DefaultSymbols(300), 42);
  SymbolBook book(100, "");
  ClusterWriter writer(cluster.config(), WriterOptions{}, redis::kDefaultPartitions);
  int64_t now = 1766318400LL * 1'000'000;
  const auto tick = [&] {
    sim.GenerateBurst(now += 1000, book);
    book.CloseTick([&] { writer.Stream(book); });
    return writer.Flush(book);
  };
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(tick().ok());  // buffers grown, connections open

  const int64_t before = testing::AllocationsSoFar();
  const absl::Status s = tick();
  EXPECT_EQ(testing::AllocationsSoFar() - before, 0);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(book.unwritten().empty());
  absl::StatusOr<size_t> node = cluster.MasterOf(redis::KeySlot("physics:state:SPY"));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(physics::testing::StateSeq(cluster.node(*node), "SPY"), 21);
}

}  // namespace
}  // namespace physics::loop
