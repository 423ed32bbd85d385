#include "engine/schema/event_header.h"

#include "engine/schema/state_message.h"
#include "gtest/gtest.h"

namespace physics::schema {
namespace {

constexpr std::string_view kState =
    R"({"mass":0.42,"momentum":1.23,"friction":0.15,"entropy":3.08,"nash_dist":0.05,)"
    R"("regime":"Gaussian","alpha_coefficient":2.8,"price":450.32,"seq":1842,)"
    R"("timestamp":"2025-12-21T12:00:00.123456Z"})";

std::string SpyEvent() {
  std::string event;
  EXPECT_TRUE(EventFromStateJson("SPY", kState, event).ok());
  return event;
}

TEST(EventHeader, ReadsSymbolSeqAndTimestamp) {
  EventHeader h;
  ASSERT_TRUE(ParseEventHeader(SpyEvent(), false, h).ok());
  EXPECT_EQ(h.symbol, "SPY");
  EXPECT_EQ(h.seq, 1842);
  ASSERT_TRUE(h.timestamp.has_value());
  EXPECT_EQ(*h.timestamp, 1766318400LL * 1'000'000 + 123456);
}

TEST(EventHeader, ParsesInPlaceWhenPadded) {
  std::string event = SpyEvent();
  event.reserve(event.size() + kJsonPadding);
  EventHeader h;
  ASSERT_TRUE(ParseEventHeader(event, true, h).ok());
  EXPECT_EQ(h.seq, 1842);
}

TEST(EventHeader, NormalisesSymbolAndToleratesOtherFieldOrder) {
  EventHeader h;
  ASSERT_TRUE(ParseEventHeader(R"({"seq":7,"data":{},"symbol":"spy"})", false, h).ok());
  EXPECT_EQ(h.symbol, "SPY");
  EXPECT_EQ(h.seq, 7);
  EXPECT_FALSE(h.timestamp.has_value());
}

TEST(EventHeader, RejectsMissingOrBadFields) {
  EventHeader h;
  EXPECT_FALSE(ParseEventHeader("not json", false, h).ok());
  EXPECT_FALSE(ParseEventHeader("[1,2]", false, h).ok());
  EXPECT_FALSE(ParseEventHeader(R"({"seq":1})", false, h).ok());
  EXPECT_FALSE(ParseEventHeader(R"({"symbol":"SPY"})", false, h).ok());
  EXPECT_FALSE(ParseEventHeader(R"({"symbol":"SP Y","seq":1})", false, h).ok());
  EXPECT_FALSE(ParseEventHeader(R"({"symbol":"SPY","seq":"1"})", false, h).ok());
}

TEST(EventHeader, StateJsonFromEventInvertsEventFromStateJson) {
  std::string state;
  ASSERT_TRUE(StateJsonFromEvent(SpyEvent(), state).ok());
  EXPECT_EQ(state, kState);
}

TEST(EventHeader, StateJsonFromEventKeepsDataWithoutAlias) {
  std::string state;
  ASSERT_TRUE(StateJsonFromEvent(R"({"symbol":"X","seq":1,"data":{"price":1} })", state).ok());
  EXPECT_EQ(state, R"({"price":1})");
  EXPECT_FALSE(StateJsonFromEvent(R"({"symbol":"X","seq":1})", state).ok());
}

}  // namespace
}  // namespace physics::schema
