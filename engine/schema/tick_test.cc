#include "engine/schema/tick.h"

#include <limits>

#include "gtest/gtest.h"

namespace physics::schema {
namespace {

Tick GoodTick() {
  Tick t;
  t.symbol = "spy";
  t.price = 450.32;
  t.size = 100;
  t.trades = 3;
  t.timestamp = 1766318400LL * 1'000'000;
  return t;
}

TEST(Tick, ValidTickIsNormalised) {
  Tick t = GoodTick();
  ASSERT_TRUE(ValidateTick(t).ok());
  EXPECT_EQ(t.symbol, "SPY");
}

TEST(Tick, RejectsBadPrices) {
  for (double price : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity()}) {
    Tick t = GoodTick();
    t.price = price;
    const absl::Status s = ValidateTick(t);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("price"), std::string::npos) << s;
  }
}

TEST(Tick, RejectsNegativeSizeAndFractionalTrades) {
  Tick t = GoodTick();
  t.size = -5;
  EXPECT_NE(ValidateTick(t).message().find("size"), std::string::npos);
  t = GoodTick();
  t.trades = 1.5;
  EXPECT_NE(ValidateTick(t).message().find("trades"), std::string::npos);
}

TEST(Tick, BidAskAreOptionalButMustBePositive) {
  Tick t = GoodTick();
  EXPECT_TRUE(ValidateTick(t).ok());
  t.bid = -1;
  EXPECT_FALSE(ValidateTick(t).ok());
}

TEST(Tick, RejectsBadSymbolAndMissingTimestamp) {
  Tick t = GoodTick();
  t.symbol = "S P Y";
  EXPECT_FALSE(ValidateTick(t).ok());
  t = GoodTick();
  t.timestamp = 0;
  EXPECT_FALSE(ValidateTick(t).ok());
}

}  // namespace
}  // namespace physics::schema
