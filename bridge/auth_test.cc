#include "bridge/auth.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

TEST(TokenMatches, OnlyTheExactTokenMatches) {
  EXPECT_TRUE(TokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(TokenMatches("s3cret", "s3cre"));
  EXPECT_FALSE(TokenMatches("s3cret", "s3cret!"));
  EXPECT_FALSE(TokenMatches("s3cret", "S3cret"));
  EXPECT_FALSE(TokenMatches("s3cret", ""));
  EXPECT_FALSE(TokenMatches("abc", std::string("abc\0", 4)));
}

TEST(RequestToken, BearerHeaderWinsOverTheQuery) {
  EXPECT_EQ(RequestToken("Bearer abc", "/ws?token=xyz"), "abc");
  EXPECT_EQ(RequestToken("bearer  abc ", "/ws"), "abc");
  EXPECT_EQ(RequestToken("Basic abc", "/ws?token=xyz"), "xyz");
}

TEST(RequestToken, QueryParameterIsPercentDecoded) {
  EXPECT_EQ(RequestToken("", "/api/state/SPY?x=1&token=a%2Fb%3D&y=2"), "a/b=");
  EXPECT_EQ(RequestToken("", "/ws?token="), "");
  EXPECT_EQ(RequestToken("", "/ws?tokenx=1"), std::nullopt);
  EXPECT_EQ(RequestToken("", "/ws"), std::nullopt);
}

TEST(OriginAllowed, EmptyListOrNoHeaderAllowsElseExactMatch) {
  const std::vector<std::string> allowed = {"https://dash.example.com", "http://localhost:3000"};
  EXPECT_TRUE(OriginAllowed({}, "https://evil.example"));
  EXPECT_TRUE(OriginAllowed(allowed, std::nullopt));
  EXPECT_TRUE(OriginAllowed(allowed, "https://DASH.example.com"));
  EXPECT_TRUE(OriginAllowed(allowed, "http://localhost:3000"));
  EXPECT_FALSE(OriginAllowed(allowed, "http://localhost:3001"));
  EXPECT_FALSE(OriginAllowed(allowed, "https://dash.example.com.evil.example"));
  EXPECT_FALSE(OriginAllowed(allowed, "null"));
}

TEST(ParseOriginList, AcceptsOriginsAndRejectsPathsOrBareHosts) {
  absl::StatusOr<std::vector<std::string>> list =
      ParseOriginList("https://Dash.Example.com, http://localhost:3000,https://dash.example.com");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(*list, (std::vector<std::string>{"https://dash.example.com", "http://localhost:3000"}));
  EXPECT_FALSE(ParseOriginList("dash.example.com").ok());
  EXPECT_FALSE(ParseOriginList("https://dash.example.com/app").ok());
  EXPECT_FALSE(ParseOriginList("https://a.example,,https://b.example").ok());
  EXPECT_FALSE(ParseOriginList("").ok());
}

TEST(CheckToken, RefusesEmptyAndInvisibleTokensNamingTheSource) {
  EXPECT_TRUE(CheckToken("abc-DEF_123.~", "--token").ok());
  const absl::Status empty = CheckToken("", "--token");
  EXPECT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("--token"), std::string::npos);
  EXPECT_FALSE(CheckToken("has space", "--token").ok());
  EXPECT_FALSE(CheckToken("tab\there", "--token").ok());
  EXPECT_FALSE(CheckToken(std::string(5000, 'a'), "--token").ok());
}

TEST(ReadTokenFile, StripsOneTrailingNewlineAndReportsUnreadableFiles) {
  const std::string path = ::testing::TempDir() + "/bridge_token_test";
  for (const char* contents : {"tok3n\n", "tok3n\r\n", "tok3n"}) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs(contents, f);
    std::fclose(f);
    absl::StatusOr<std::string> token = ReadTokenFile(path);
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_EQ(*token, "tok3n");
  }
  std::remove(path.c_str());
  const absl::StatusOr<std::string> missing = ReadTokenFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  EXPECT_EQ(missing.status().message().find('\n'), std::string::npos);
  EXPECT_FALSE(ReadTokenFile(::testing::TempDir()).ok());  // a directory
}

}  // namespace
}  // namespace physics::bridge
