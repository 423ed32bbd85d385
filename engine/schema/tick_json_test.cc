#include "engine/schema/tick_json.h"

#include <cmath>
#include <string>

#include "gtest/gtest.h"

namespace physics::schema {
namespace {

constexpr EpochMicros kArrival = 1766318499'000000;

Tick Parse(std::string_view json) {
  Tick tick;
  const absl::Status s = ParseTickJson(json, kArrival, tick);
  EXPECT_TRUE(s.ok()) << json << ": " << s;
  return tick;
}

std::string ParseError(std::string_view json) {
  Tick tick;
  const absl::Status s = ParseTickJson(json, kArrival, tick);
  EXPECT_FALSE(s.ok()) << json;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
  return std::string(s.message());
}

TEST(TickJson, ReadsEveryField) {
  const Tick t = Parse(
      R"({"symbol":"spy","price":450.25,"size":100,"trades":3,"bid":450.2,"ask":450.3,)"
      R"("timestamp":1766318400.123456})");
  EXPECT_EQ(t.symbol, "spy");  // normalised later, by ValidateTick
  EXPECT_EQ(t.price, 450.25);
  EXPECT_EQ(t.size, 100);
  EXPECT_EQ(t.trades, 3);
  EXPECT_EQ(t.bid, 450.2);
  EXPECT_EQ(t.ask, 450.3);
  EXPECT_EQ(t.timestamp, 1766318400'123456);
}

TEST(TickJson, AppliesTheSpecDefaults) {
  const Tick t = Parse(R"({"symbol":"SPY","price":1})");
  EXPECT_EQ(t.size, 0);
  EXPECT_EQ(t.trades, 1);
  EXPECT_TRUE(std::isnan(t.bid));
  EXPECT_TRUE(std::isnan(t.ask));
  EXPECT_EQ(t.timestamp, kArrival);  // no timestamp: arrival time
}

TEST(TickJson, NullMeansAbsent) {
  const Tick t = Parse(R"({"symbol":"SPY","price":1,"bid":null,"ask":null,"timestamp":null,"size":null})");
  EXPECT_TRUE(std::isnan(t.bid));
  EXPECT_EQ(t.size, 0);
  EXPECT_EQ(t.timestamp, kArrival);
}

TEST(TickJson, AcceptsUpdatesAsAnAliasOfTrades) {
  EXPECT_EQ(Parse(R"({"symbol":"SPY","price":1,"updates":7})").trades, 7);
}

TEST(TickJson, AcceptsIsoAndStringTimestamps) {
  EXPECT_EQ(Parse(R"({"symbol":"A","price":1,"timestamp":"2025-12-21T12:00:00.5Z"})").timestamp,
            1766318400'500000);
  EXPECT_EQ(Parse(R"({"symbol":"A","price":1,"timestamp":"1766318400.25"})").timestamp,
            1766318400'250000);
  EXPECT_EQ(Parse(R"({"symbol":"A","price":1,"timestamp":1766318400})").timestamp,
            1766318400'000000);
}

TEST(TickJson, AcceptsNumbersSentAsStrings) {
  const Tick t = Parse(R"({"symbol":"A","price":"12.5","size":"3"})");
  EXPECT_EQ(t.price, 12.5);
  EXPECT_EQ(t.size, 3);
}

TEST(TickJson, IgnoresUnknownFieldsAndLetsTheLastRepeatWin) {
  const Tick t = Parse(
      R"({"venue":{"id":[1,2,{"x":null}]},"symbol":"A","price":1,"price":2,"note":"hi \"there\""})");
  EXPECT_EQ(t.price, 2);
}

TEST(TickJson, UnescapesKeysAndStrings) {
  EXPECT_EQ(Parse(R"({"sym\u0062ol":"B\u0052K.B","price":1})").symbol, "BRK.B");
}

TEST(TickJson, LeavesRangeChecksToValidateTick) {
  Tick t = Parse(R"({"symbol":"SPY","price":-5})");
  EXPECT_EQ(t.price, -5);
  EXPECT_EQ(ValidateTick(t).message(), "price -5: must be > 0 and finite");
}

TEST(TickJson, RejectsWhatIsNotOneTickObject) {
  EXPECT_EQ(ParseError(""), "tick JSON: not a JSON object");
  EXPECT_EQ(ParseError("[1,2]"), "tick JSON: not a JSON object");
  EXPECT_EQ(ParseError("42"), "tick JSON: not a JSON object");
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1} x)").find("tick JSON"), std::string::npos);
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1}})").find("tick JSON"), std::string::npos);
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1)").find("tick JSON"), std::string::npos);
  EXPECT_NE(ParseError(R"({"symbol":"A" "price":1})").find("tick JSON"), std::string::npos);
}

TEST(TickJson, NamesTheBadField) {
  EXPECT_EQ(ParseError(R"({"price":1})"), "tick JSON: missing symbol");
  EXPECT_EQ(ParseError(R"({"symbol":"A"})"), "tick JSON: missing price");
  EXPECT_EQ(ParseError(R"({"symbol":"A","price":null})"), "tick JSON: missing price");
  EXPECT_EQ(ParseError(R"({"symbol":"A","price":"abc"})"), "tick JSON: price 'abc' is not a number");
  EXPECT_EQ(ParseError(R"({"symbol":"A","price":true})"), "tick JSON: price: expected a number");
  EXPECT_EQ(ParseError(R"({"symbol":7,"price":1})"), "tick JSON: symbol: expected a string");
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1,"timestamp":"yesterday"})").find("timestamp 'yesterday'"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1,"timestamp":1e300})").find("timestamp"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"symbol":"A","price":1e999})").find("price"), std::string::npos);
}

TEST(TickJson, RejectsOversizedInputBeforeCopyingIt) {
  std::string huge = R"({"symbol":"A","price":1,"pad":")";
  huge.append(kMaxTickJsonBytes, 'x');
  huge.append("\"}");
  EXPECT_NE(ParseError(huge).find("longer than"), std::string::npos);
}

TEST(TickJson, ResetsFieldsFromAnEarlierTick) {
  Tick t;
  ASSERT_TRUE(ParseTickJson(R"({"symbol":"A","price":1,"bid":2,"size":9,"trades":4,"timestamp":5})",
                            kArrival, t).ok());
  ASSERT_TRUE(ParseTickJson(R"({"symbol":"B","price":3})", kArrival, t).ok());
  EXPECT_TRUE(std::isnan(t.bid));
  EXPECT_EQ(t.size, 0);
  EXPECT_EQ(t.trades, 1);
  EXPECT_EQ(t.timestamp, kArrival);
}

TEST(TickJson, RoundTripsWhatItWrites) {
  Tick in;
  in.symbol = "BRK.B";
  in.price = 0.1 + 0.2;
  in.size = 123.75;
  in.trades = 4;
  in.bid = 450.0999999;
  in.timestamp = 1766318400'000001;
  std::string json;
  AppendTickJson(in, json);
  EXPECT_EQ(json.find("\"ask\""), std::string::npos);
  const Tick out = Parse(json);
  EXPECT_EQ(out.symbol, in.symbol);
  EXPECT_EQ(out.price, in.price);
  EXPECT_EQ(out.size, in.size);
  EXPECT_EQ(out.trades, in.trades);
  EXPECT_EQ(out.bid, in.bid);
  EXPECT_TRUE(std::isnan(out.ask));
  EXPECT_EQ(out.timestamp, in.timestamp);
}

// Found by tests/fuzz (fuzz_tick_json): past 2255 a double has too few digits
// for seconds and microseconds, so a numeric timestamp lost its last digit.
TEST(TickJson, RoundTripsTimestampsBeyondDoublePrecision) {
  for (const EpochMicros ts : {EpochMicros{12148495200'123455},  // 2354-12-21T14:00:00.123455Z
                               EpochMicros{253402300799'999999}}) {  // the last accepted instant
    Tick in;
    in.symbol = "BRK.B";
    in.price = 450.25;
    in.timestamp = ts;
    std::string json;
    AppendTickJson(in, json);
    EXPECT_EQ(Parse(json).timestamp, ts) << json;
  }
  // More than six decimals still round, as EpochMicrosFromSeconds does.
  EXPECT_EQ(Parse(R"({"symbol":"A","price":1,"timestamp":1766318400.1234567})").timestamp,
            1766318400'123457);
}

// Found by tests/fuzz (fuzz_tick_json, fuzz_csv_row): a raw value quoted in an
// error broke the log line.
TEST(TickJson, ErrorMessagesAreOneLine) {
  EXPECT_EQ(ParseError(R"({"symbol":"A","price":"1\n2"})"), "tick JSON: price '1\\n2' is not a number");
  EXPECT_EQ(ParseError(R"({"symbol":"A","price":1,"timestamp":"17\r\n"})").find_first_of("\r\n"),
            std::string::npos);
}

TEST(TickJson, EpochSecondsKeepSixDecimals) {
  std::string s;
  AppendEpochSeconds(1766318400'000042, s);
  EXPECT_EQ(s, "1766318400.000042");
  s.clear();
  AppendEpochSeconds(0, s);
  EXPECT_EQ(s, "0.000000");
}

}  // namespace
}  // namespace physics::schema
