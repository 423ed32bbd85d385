#include "bridge/options.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

TEST(Options, ParsesListenAddresses) {
  absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  a = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  EXPECT_EQ(ParseListenAddress("localhost:1")->host, "127.0.0.1");
  for (const char* bad : {"8080", ":8080", "host:", "1.2.3.4:70000", "1.2.3.4:x", "::1:80"}) {
    EXPECT_FALSE(ParseListenAddress(bad).ok()) << bad;
  }
}

TEST(Options, ParsesChannelLists) {
  absl::StatusOr<std::vector<std::string>> c = ParseChannelList("market.tick.*,alerts,alerts");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (std::vector<std::string>{"market.tick.*", "alerts"}));
  EXPECT_TRUE(ParseChannelList("")->empty());
  for (const char* bad : {"a,,b", "a b", "state_update", ","}) {
    EXPECT_FALSE(ParseChannelList(bad).ok()) << bad;
  }
  EXPECT_TRUE(IsChannelPattern("market.tick.*"));
  EXPECT_FALSE(IsChannelPattern("alerts"));
}

}  // namespace
}  // namespace physics::bridge
