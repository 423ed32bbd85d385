#include "engine/feed/sim_feed.h"

#include <map>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace physics::feed {
namespace {

class RecordingSink : public TickSink {
 public:
  void Accept(const schema::Tick& tick) override { ticks.push_back(tick); }
  void Reject(const TickOrigin&, const absl::Status& why) override { rejects.push_back(why); }
  std::vector<schema::Tick> ticks;
  std::vector<absl::Status> rejects;
};

TEST(SimSymbols, WellKnownTickersComeFirst) {
  const std::vector<std::string> s = DefaultSymbols(42);
  ASSERT_EQ(s.size(), 42u);
  EXPECT_EQ(s[0], "SPY");
  EXPECT_EQ(s[1], "QQQ");
  EXPECT_EQ(s[40], "SYM0001");
}

TEST(SimSymbols, FlagTakesCountOrList) {
  EXPECT_EQ(ParseSymbolsFlag("3")->size(), 3u);
  EXPECT_THAT(*ParseSymbolsFlag("spy,QQQ,brk.b"), ::testing::ElementsAre("SPY", "QQQ", "BRK.B"));
  EXPECT_FALSE(ParseSymbolsFlag("0").ok());
  EXPECT_FALSE(ParseSymbolsFlag("SPY,,QQQ").ok());
  EXPECT_FALSE(ParseSymbolsFlag("SPY,spy").ok());
  EXPECT_FALSE(ParseSymbolsFlag("S P Y").ok());
}

TEST(SimFeed, SameSeedGivesSameTicks) {
  RecordingSink a, b;
  SimFeed fa(DefaultSymbols(5), 7), fb(DefaultSymbols(5), 7);
  for (int i = 0; i < 50; ++i) {
    fa.GenerateBurst(1'000'000 + i, a);
    fb.GenerateBurst(1'000'000 + i, b);
  }
  ASSERT_EQ(a.ticks.size(), b.ticks.size());
  for (size_t i = 0; i < a.ticks.size(); ++i) {
    EXPECT_EQ(a.ticks[i].symbol, b.ticks[i].symbol);
    EXPECT_EQ(a.ticks[i].price, b.ticks[i].price);
    EXPECT_EQ(a.ticks[i].size, b.ticks[i].size);
  }
}

TEST(SimFeed, EveryTickIsValidAndEverySymbolTrades) {
  RecordingSink sink;
  SimFeed feed(DefaultSymbols(30), 1);
  for (int i = 0; i < 2000; ++i) feed.GenerateBurst(1'700'000'000'000'000 + i, sink);
  EXPECT_TRUE(sink.rejects.empty());
  std::set<std::string> seen;
  for (const schema::Tick& t : sink.ticks) {
    seen.insert(t.symbol);
    EXPECT_GT(t.price, 0);
    EXPECT_LT(t.bid, t.ask);
  }
  EXPECT_EQ(seen.size(), 30u);
}

TEST(SimFeed, ShardsTogetherGiveEachSymbolTheTicksOfOneEngine) {
  const std::vector<std::string> symbols = DefaultSymbols(60);
  const redis::Partitioning parts(24);
  RecordingSink whole, shard0, shard1;
  SimFeed all(symbols, 9);
  SimFeed first(symbols, 9, SymbolShare(parts, Shard{0, 2}));
  SimFeed second(symbols, 9, SymbolShare(parts, Shard{1, 2}));
  EXPECT_EQ(first.symbol_count() + second.symbol_count(), symbols.size());
  EXPECT_GT(first.symbol_count(), 0u);
  EXPECT_GT(second.symbol_count(), 0u);
  for (int i = 0; i < 100; ++i) {
    all.GenerateBurst(1'000'000 + i, whole);
    first.GenerateBurst(1'000'000 + i, shard0);
    second.GenerateBurst(1'000'000 + i, shard1);
  }
  // Per symbol, the merged shards' ticks equal the single engine's.
  std::map<std::string, std::vector<std::pair<double, double>>> expected, merged;
  for (const schema::Tick& t : whole.ticks) expected[t.symbol].emplace_back(t.price, t.size);
  for (const auto* sink : {&shard0, &shard1}) {
    for (const schema::Tick& t : sink->ticks) merged[t.symbol].emplace_back(t.price, t.size);
  }
  EXPECT_EQ(merged.size(), symbols.size());
  EXPECT_EQ(merged, expected);
}

TEST(SimFeed, DifferentSeedsGiveDifferentPrices) {
  RecordingSink a, b;
  SimFeed(DefaultSymbols(3), 1).GenerateBurst(1'000'000, a);
  SimFeed(DefaultSymbols(3), 2).GenerateBurst(1'000'000, b);
  EXPECT_NE(a.ticks[0].price, b.ticks[0].price);
}

}  // namespace
}  // namespace physics::feed
