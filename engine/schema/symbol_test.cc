#include "engine/schema/symbol.h"

#include "gtest/gtest.h"

namespace physics::schema {
namespace {

TEST(Symbol, NormalisesToUpperCase) {
  std::string out;
  ASSERT_TRUE(NormalizeSymbol("brk.b", out).ok());
  EXPECT_EQ(out, "BRK.B");
}

TEST(Symbol, NormalisesInPlace) {
  std::string s = "es_z5-x";
  ASSERT_TRUE(NormalizeSymbol(s, s).ok());
  EXPECT_EQ(s, "ES_Z5-X");
}

TEST(Symbol, AcceptsThirtyTwoCharacters) {
  std::string out;
  EXPECT_TRUE(NormalizeSymbol(std::string(32, 'A'), out).ok());
}

TEST(Symbol, RejectsEmptyTooLongAndBadCharacters) {
  std::string out;
  EXPECT_FALSE(NormalizeSymbol("", out).ok());
  EXPECT_FALSE(NormalizeSymbol(std::string(33, 'A'), out).ok());
  for (const char* bad : {"SP Y", "SPY:1", "SPY*", "ÄPL", "a/b", "x\n"}) {
    const absl::Status s = NormalizeSymbol(bad, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("[A-Z0-9._-]"), std::string::npos);
  }
}

}  // namespace
}  // namespace physics::schema
