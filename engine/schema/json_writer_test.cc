#include "engine/schema/json_writer.h"

#include <string>

#include "gtest/gtest.h"

namespace physics::schema {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

TEST(JsonString, QuotesPlainTextAsItIs) {
  EXPECT_EQ(Quoted("SPY"), R"("SPY")");
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(JsonString, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(Quoted(R"(say "hi" \o/)"), R"("say \"hi\" \\o/")");
}

TEST(JsonString, WritesControlCharactersAsUnicodeEscapes) {
  EXPECT_EQ(Quoted(std::string("a\nb\tc\x01\x1f", 7)), R"("a\u000ab\u0009c\u0001\u001f")");
  EXPECT_EQ(Quoted(std::string("\0", 1)), R"("\u0000")");
}

TEST(JsonString, AppendsAfterWhatIsThere) {
  std::string out = "{";
  AppendJsonKey(out, "error");
  AppendJsonString(out, "bad \"x\"");
  EXPECT_EQ(out, R"({"error":"bad \"x\"")");
}

}  // namespace
}  // namespace physics::schema
