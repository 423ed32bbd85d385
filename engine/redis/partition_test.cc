#include "engine/redis/partition.h"

#include <set>
#include <string>
#include <vector>

#include "engine/redis/key_slot.h"
#include "gtest/gtest.h"

namespace physics::redis {
namespace {

TEST(Partitioning, SymbolPartitionIsCrc16ModP) {
  const Partitioning parts(24);
  EXPECT_EQ(parts.Of("SPY"), Crc16("SPY") % 24);
  EXPECT_EQ(parts.Of("AAPL"), Crc16("AAPL") % 24);
  // Stable across releases: services compute it on their side.
  EXPECT_EQ(Crc16("SPY"), 0xC2FD) << "CRC16-XMODEM changed";
}

// The default partitioning as docs/SPEC.md §9 lists it: services compute
// channels from it, so it must never change.
TEST(Partitioning, DefaultTagsAreTheDocumentedOnes) {
  const Partitioning parts;
  ASSERT_EQ(parts.count(), 24);
  const std::vector<std::string> documented = {"10", "29", "3",  "61",  "50", "153", "11",  "130",
                                               "2",  "60", "51", "42",  "12", "133", "1",   "63",
                                               "52", "41", "103", "118", "0", "62",  "53",  "40"};
  for (int p = 0; p < parts.count(); ++p) EXPECT_EQ(parts.Tag(p), documented[p]) << p;
  EXPECT_EQ(parts.Of("SPY"), 21);
  EXPECT_EQ(parts.Channel(Config{}, parts.Of("SPY")), "state_update:{62}");
}

TEST(Partitioning, ChannelAndStreamLiveInThePartitionsSlot) {
  const Partitioning parts(24);
  Config cfg;
  cfg.key_namespace = "agentic";
  for (int p = 0; p < parts.count(); ++p) {
    EXPECT_EQ(KeySlot(parts.Channel(cfg, p)), parts.Slot(p)) << p;
    EXPECT_EQ(KeySlot(parts.Stream("market:ticks", p)), parts.Slot(p)) << p;
    EXPECT_EQ(KeySlot(parts.Stream("market:ticks", p) + ":dlq"), parts.Slot(p)) << p;
  }
  EXPECT_EQ(parts.Channel(cfg, 0), "agentic:state_update:{" + parts.Tag(0) + "}");
}

TEST(Partitioning, SpreadsEvenlyOverMastersThatSplitSlotsEvenly) {
  for (int masters : {1, 2, 3, 4, 6, 8}) {
    for (int count : {masters, 12, 24, 64, 100, kMaxPartitions}) {
      const Partitioning parts(count);
      std::vector<int> per_master(masters, 0);
      std::set<uint16_t> slots;
      for (int p = 0; p < count; ++p) {
        ++per_master[int64_t{parts.Slot(p)} * masters / kClusterSlots];
        slots.insert(parts.Slot(p));
      }
      EXPECT_EQ(slots.size(), static_cast<size_t>(count)) << "two partitions share a slot";
      const auto [lo, hi] = std::minmax_element(per_master.begin(), per_master.end());
      EXPECT_LE(*hi - *lo, 1) << count << " partitions over " << masters << " masters";
    }
  }
}

TEST(Partitioning, ParsePartitionsAcceptsOneToMax) {
  EXPECT_EQ(*ParsePartitions("24"), 24);
  EXPECT_EQ(*ParsePartitions("1"), 1);
  EXPECT_FALSE(ParsePartitions("0").ok());
  EXPECT_FALSE(ParsePartitions("1025").ok());
  EXPECT_FALSE(ParsePartitions("-3").ok());
  EXPECT_FALSE(ParsePartitions("").ok());
  EXPECT_FALSE(ParsePartitions("2x").ok());
}

}  // namespace
}  // namespace physics::redis
