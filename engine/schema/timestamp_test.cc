#include "engine/schema/timestamp.h"

#include "gtest/gtest.h"

namespace physics::schema {
namespace {

// 2025-12-21T12:00:00Z
constexpr EpochMicros kNoon = 1766318400LL * 1'000'000;

TEST(Timestamp, FormatsIsoWithMicroseconds) {
  std::string out;
  AppendIso8601Micros(kNoon + 123456, out);
  EXPECT_EQ(out, "2025-12-21T12:00:00.123456Z");
  out.clear();
  AppendIso8601Micros(0, out);
  EXPECT_EQ(out, "1970-01-01T00:00:00.000000Z");
  out.clear();
  AppendIso8601Micros(951782400LL * 1'000'000 + 1, out);  // leap day 2000
  EXPECT_EQ(out, "2000-02-29T00:00:00.000001Z");
}

// The date part is kept from the last call: crossing midnight either way
// must still give each timestamp its own date.
TEST(Timestamp, FormatsTheRightDateAcrossMidnightBothWays) {
  const EpochMicros midnight = kNoon + 12LL * 3600 * 1'000'000;  // 2025-12-22T00:00:00Z
  const std::pair<EpochMicros, const char*> cases[] = {
      {midnight - 1, "2025-12-21T23:59:59.999999Z"},
      {midnight, "2025-12-22T00:00:00.000000Z"},
      {midnight - 1, "2025-12-21T23:59:59.999999Z"},
      {midnight + 86'400'000'000LL * 10, "2026-01-01T00:00:00.000000Z"},
  };
  for (const auto& [t, expected] : cases) {
    std::string out;
    AppendIso8601Micros(t, out);
    EXPECT_EQ(out, expected);
  }
}

TEST(Timestamp, ParsesEpochSecondsExactly) {
  EXPECT_EQ(*ParseTimestamp("1766318400"), kNoon);
  EXPECT_EQ(*ParseTimestamp("1766318400.123456"), kNoon + 123456);
  EXPECT_EQ(*ParseTimestamp("1766318400.5"), kNoon + 500000);
  EXPECT_EQ(*ParseTimestamp("1766318400.1234569"), kNoon + 123456);
}

TEST(Timestamp, ParsesIso8601Utc) {
  EXPECT_EQ(*ParseTimestamp("2025-12-21T12:00:00Z"), kNoon);
  EXPECT_EQ(*ParseTimestamp("2025-12-21T12:00:00.123456Z"), kNoon + 123456);
  EXPECT_EQ(*ParseTimestamp("2025-12-21 12:00:00.1+00:00"), kNoon + 100000);
}

TEST(Timestamp, RoundTripsThroughIso) {
  for (EpochMicros t : {kNoon, kNoon + 999999, EpochMicros{4102444799999999}}) {
    std::string out;
    AppendIso8601Micros(t, out);
    EXPECT_EQ(*ParseTimestamp(out), t) << out;
  }
}

TEST(Timestamp, RejectsMalformedValues) {
  for (const char* bad : {"", "abc", "-5", "1766318400.", "1766318400x", "2025-13-01T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2025-12-21T12:00:00+01:00",
                          "2025-12-21T25:00:00Z", "2025-12-21"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
}

TEST(Timestamp, ConvertsEpochSecondsDoubles) {
  EXPECT_EQ(*EpochMicrosFromSeconds(1766318400.25), kNoon + 250000);
  EXPECT_FALSE(EpochMicrosFromSeconds(NAN).ok());
  EXPECT_FALSE(EpochMicrosFromSeconds(-1).ok());
  EXPECT_FALSE(EpochMicrosFromSeconds(1e300).ok());
}

}  // namespace
}  // namespace physics::schema
