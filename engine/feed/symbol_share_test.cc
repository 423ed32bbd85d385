#include "engine/feed/symbol_share.h"

#include "engine/feed/sim_feed.h"
#include "gtest/gtest.h"

namespace physics::feed {
namespace {

TEST(ParseShard, AcceptsIndexBelowCountUpToThePartitions) {
  absl::StatusOr<Shard> s = ParseShard("1/4", 24);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 4);
  EXPECT_EQ(s->ToString(), "1/4");
  EXPECT_TRUE(ParseShard("0/1", 24).ok());
  EXPECT_TRUE(ParseShard("23/24", 24).ok());
}

TEST(ParseShard, RejectsWhatIsNotIUnderNUnderPartitions) {
  for (const char* bad : {"", "1", "2/2", "-1/2", "0/0", "0/25", "1/2x", "a/b", "1/", "/2", " 0/2"}) {
    absl::StatusOr<Shard> s = ParseShard(bad, 24);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().message(), "expected I/N with 0 <= I < N <= 24 (the partitions), e.g. 0/2");
  }
}

TEST(SymbolShare, ShardsSplitTheSymbolsByPartition) {
  const redis::Partitioning parts(24);
  const SymbolShare a(parts, Shard{0, 3}), b(parts, Shard{1, 3}), c(parts, Shard{2, 3});
  for (const std::string& symbol : DefaultSymbols(500)) {
    EXPECT_EQ(a.Owns(symbol) + b.Owns(symbol) + c.Owns(symbol), 1) << symbol;
    EXPECT_EQ(b.Owns(symbol), parts.Of(symbol) % 3 == 1) << symbol;
    EXPECT_TRUE(SymbolShare().Owns(symbol));
  }
}

}  // namespace
}  // namespace physics::feed
