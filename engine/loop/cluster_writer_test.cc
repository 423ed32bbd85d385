#include "engine/loop/cluster_writer.h"

#include "engine/feed/sim_feed.h"
#include "engine/loop/counting_new.h"
#include "engine/redis/key_slot.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/redis_reads.h"

namespace physics::loop {
namespace {

using physics::testing::ClusterSet;

// A lease long enough that the clock rule never holds a write back.
WriterOptions LeaseOptions(std::string id) {
  WriterOptions options;
  options.heartbeat_id = std::move(id);
  options.leader_lease = absl::Seconds(30);
  return options;
}

// The simulator's loop ticks through a writer: a burst folded, the states
// streamed while the tick closes, then the flush.
class SimTicks {
 public:
  explicit SimTicks(size_t symbols) : symbols_(feed::DefaultSymbols(symbols)), sim_(symbols_, 42) {}
  absl::Status Tick(ClusterWriter& writer, SymbolBook& book) {
    sim_.GenerateBurst(now_ += 1000, book);
    book.CloseTick([&] { writer.Stream(book); });
    return writer.Flush(book);
  }
  const std::vector<std::string>& symbols() const { return symbols_; }

 private:
  std::vector<std::string> symbols_;
  feed::SimFeed sim_;
  int64_t now_ = 1766318400LL * 1'000'000;
};

// The stored seq of `symbol`, read on the master serving it.
int64_t StoredSeq(ClusterSet& cluster, const std::string& symbol) {
  absl::StatusOr<size_t> node = cluster.MasterOf(redis::KeySlot("physics:state:" + symbol));
  return node.ok() ? physics::testing::StateSeq(cluster.node(*node), symbol) : -1;
}

// After `warmup` loop ticks (buffers grown, connections open), one more
// allocates nothing and writes every symbol.
void ExpectSteadyLoopTickAllocatesNothing(const WriterOptions& options, int warmup) {
  ClusterSet cluster({.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  SimTicks ticks(300);
  SymbolBook book(100, "");
  ClusterWriter writer(cluster.config(), options, redis::kDefaultPartitions);
  ASSERT_TRUE(writer.TryLead(&book));
  for (int i = 0; i < warmup; ++i) ASSERT_TRUE(ticks.Tick(writer, book).ok());

  const int64_t before = testing::AllocationsSoFar();
  const absl::Status s = ticks.Tick(writer, book);
  EXPECT_EQ(testing::AllocationsSoFar() - before, 0);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(book.unwritten().empty());
  EXPECT_EQ(StoredSeq(cluster, "SPY"), warmup + 1);
}

TEST(ClusterWriter, SteadyStateLoopTickAllocatesNothing) {
  ExpectSteadyLoopTickAllocatesNothing(WriterOptions{}, 20);
}

TEST(ClusterWriter, LeaseModeSteadyStateLoopTickAllocatesNothing) {
  // The scripts' longer units grow the buffers for a few more ticks.
  ExpectSteadyLoopTickAllocatesNothing(LeaseOptions("e"), 40);
}

// The fence alone, without the clock rule: an old leader whose clock still
// vouches for its lease (30 s) writes after another engine took the lease
// with a newer epoch; none of its units lands, and it stands by.
TEST(ClusterWriter, ANewerLeaderFencesOutAnOldOneWhoseClockStillVouches) {
  ClusterSet cluster({.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  SimTicks ticks(50);
  SymbolBook old_book(100, ""), new_book(100, "");
  ClusterWriter old_writer(cluster.config(), LeaseOptions("old"), redis::kDefaultPartitions);
  ClusterWriter new_writer(cluster.config(), LeaseOptions("new"), redis::kDefaultPartitions);
  absl::StatusOr<size_t> spy = cluster.MasterOf(redis::KeySlot("physics:state:SPY"));
  absl::StatusOr<size_t> lease = cluster.MasterOf(redis::KeySlot("ops:leader:engine"));
  ASSERT_TRUE(spy.ok() && lease.ok());

  ASSERT_TRUE(old_writer.TryLead(&old_book));
  EXPECT_FALSE(new_writer.TryLead(&new_book));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ticks.Tick(old_writer, old_book).ok());
  EXPECT_EQ(StoredSeq(cluster, "SPY"), 3);

  // The lease lapses (as after a stall longer than it) and the other engine takes it.
  ASSERT_TRUE(cluster.node(*lease).Run({"DEL", "ops:leader:engine"}).ok());
  ASSERT_TRUE(new_writer.TryLead(&new_book));
  const std::string before = physics::testing::Get(cluster.node(*spy), "physics:state:SPY");

  EXPECT_TRUE(ticks.Tick(old_writer, old_book).ok());
  EXPECT_FALSE(old_writer.leading());
  EXPECT_EQ(physics::testing::Get(cluster.node(*spy), "physics:state:SPY"), before);
  EXPECT_TRUE(old_book.unwritten().empty());  // a standby's states are dropped

  ASSERT_TRUE(ticks.Tick(new_writer, new_book).ok());
  EXPECT_TRUE(new_writer.leading());
  EXPECT_EQ(StoredSeq(cluster, "SPY"), 4);  // continues the stored 3
}

// Slot migrations under a leading writer: a symbol's slot moves to another
// master (its group is refused there as non-local until the writer reads the
// new slot map and fences again), then the slot of a copy moves (two copies
// on one master, none on the other: fenced again). It keeps leading and
// every state lands.
TEST(ClusterWriter, LeaseModeLeadsOnThroughSlotMigrationsOfAStateAndOfACopy) {
  ClusterSet cluster({.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  SimTicks ticks(50);
  SymbolBook book(100, "");
  ClusterWriter writer(cluster.config(), LeaseOptions("e"), redis::kDefaultPartitions);
  ASSERT_TRUE(writer.TryLead(&book));
  int64_t ticked = 0;
  const auto tick = [&] {
    ++ticked;
    return ticks.Tick(writer, book);
  };
  const auto migrate = [&](uint16_t slot) {
    absl::StatusOr<size_t> from = cluster.MasterOf(slot);
    ASSERT_TRUE(from.ok());
    absl::StatusOr<size_t> to = cluster.MasterOf(slot < redis::kClusterSlots / 2 ? 16383 : 0);
    ASSERT_TRUE(to.ok());
    ASSERT_NE(*from, *to);
    ASSERT_TRUE(cluster.BeginSlotMigration(slot, *from, *to).ok());
    ASSERT_TRUE(cluster.MigrateKeys(slot, *from, *to, 100).ok());
    ASSERT_TRUE(cluster.FinishSlotMigration(slot, *from, *to).ok());
    ASSERT_TRUE(cluster.WaitForClusterOk(absl::Seconds(10)).ok());
  };
  // Ticks until one lands whole; then every stored seq is the ticks' count.
  const auto expect_all_written = [&] {
    absl::Status s = tick();
    for (int i = 0; i < 10 && !s.ok(); ++i) s = tick();
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(writer.leading());
    for (const std::string& symbol : ticks.symbols()) EXPECT_EQ(StoredSeq(cluster, symbol), ticked) << symbol;
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(tick().ok());

  migrate(redis::KeySlot("physics:state:SPY"));
  expect_all_written();
  migrate(0);  // the first slot of its master: that master's copy lives there
  expect_all_written();
}

}  // namespace
}  // namespace physics::loop
