#include "engine/feed/stream_entry.h"

#include <cmath>

#include "gtest/gtest.h"

namespace physics::feed {
namespace {

TEST(StreamId, ParsesAndOrdersLikeRedis) {
  EXPECT_EQ(StreamId::Parse("1766318400123-7"), (StreamId{1766318400123, 7}));
  EXPECT_EQ(StreamId::Parse("5"), (StreamId{5, 0}));
  EXPECT_FALSE(StreamId::Parse(""));
  EXPECT_FALSE(StreamId::Parse("1-"));
  EXPECT_FALSE(StreamId::Parse("a-1"));
  EXPECT_FALSE(StreamId::Parse("1-2-3"));
  EXPECT_LT((StreamId{1, 9}), (StreamId{2, 0}));
  EXPECT_LT((StreamId{2, 0}), (StreamId{2, 1}));
}

TEST(StreamId, FormatsAsMsDashSeq) {
  EXPECT_EQ((StreamId{1766318400123, 0}).ToString(), "1766318400123-0");
  const StreamId max{UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(max.ToString().size(), kMaxStreamIdLength);
  EXPECT_EQ(StreamId::Parse(max.ToString()), max);
}

TEST(TickFieldReader, ReadsEverySpecField) {
  schema::Tick t;
  TickFieldReader r(t);
  for (auto [name, value] : {std::pair{"symbol", "spy"}, {"price", "450.5"}, {"size", "10"},
                             {"updates", "3"}, {"bid", "450.4"}, {"ask", "450.6"},
                             {"timestamp", "1766318400.25"}, {"venue", "ignored"}}) {
    ASSERT_TRUE(r.Read(name, value).ok()) << name;
  }
  ASSERT_TRUE(r.Finish(StreamId{1, 0}).ok());
  EXPECT_EQ(t.symbol, "spy");
  EXPECT_EQ(t.price, 450.5);
  EXPECT_EQ(t.size, 10);
  EXPECT_EQ(t.trades, 3);
  EXPECT_EQ(t.bid, 450.4);
  EXPECT_EQ(t.ask, 450.6);
  EXPECT_EQ(t.timestamp, 1766318400'250000);
}

TEST(TickFieldReader, DefaultsAndTheIdsTimeWhenNoTimestamp) {
  schema::Tick t;
  t.bid = 5;
  TickFieldReader r(t);
  ASSERT_TRUE(r.Read("symbol", "A").ok());
  ASSERT_TRUE(r.Read("price", "1").ok());
  ASSERT_TRUE(r.Read("bid", "").ok());  // empty: absent
  ASSERT_TRUE(r.Finish(StreamId{1766318400123, 4}).ok());
  EXPECT_EQ(t.size, 0);
  EXPECT_EQ(t.trades, 1);
  EXPECT_TRUE(std::isnan(t.bid));
  EXPECT_EQ(t.timestamp, 1766318400'123000);
}

TEST(TickFieldReader, NamesWhatIsWrong) {
  schema::Tick t;
  {
    TickFieldReader r(t);
    EXPECT_EQ(r.Read("price", "abc").message(), "field price 'abc' is not a number");
    EXPECT_EQ(r.Read("timestamp", "noon").message().substr(0, 23), "field timestamp 'noon':");
  }
  {
    TickFieldReader r(t);
    ASSERT_TRUE(r.Read("price", "1").ok());
    EXPECT_EQ(r.Finish(StreamId{}).message(), "missing field symbol");
  }
  {
    TickFieldReader r(t);
    ASSERT_TRUE(r.Read("symbol", "A").ok());
    EXPECT_EQ(r.Finish(StreamId{}).message(), "missing field price");
  }
}

}  // namespace
}  // namespace physics::feed
