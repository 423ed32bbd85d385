#include "engine/redis/resp.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace physics::redis {
namespace {

TEST(Resp, EncodesCommandAsArrayOfBulkStrings) {
  std::string out;
  AppendResp(out, {"SET", "physics:state:SPY", "{\"mass\":0.42}"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$17\r\nphysics:state:SPY\r\n$13\r\n{\"mass\":0.42}\r\n");
}

TEST(Resp, AppendsAfterExistingContent) {
  std::string out;
  AppendResp(out, {"PING"});
  AppendResp(out, {"GET", "k"});
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(Resp, IsBinarySafe) {
  const std::string value("a\r\n\0b", 5);
  std::string out;
  AppendResp(out, {"SET", "k", value});
  EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", 31));
}

TEST(Resp, EncodesEmptyArgument) {
  std::string out;
  AppendResp(out, {"SET", "k", ""});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST(Resp, EncodesMultiDigitLengths) {
  const std::string big(123456, 'x');
  std::vector<std::string_view> argv(12, "a");
  argv[11] = big;
  std::string out;
  AppendResp(out, argv);
  EXPECT_TRUE(out.starts_with("*12\r\n$1\r\na\r\n"));
  EXPECT_NE(out.find("$123456\r\nxxx"), std::string::npos);
  EXPECT_TRUE(out.ends_with("xx\r\n"));
}

TEST(Resp, DoesNotAllocateWhenCapacitySuffices) {
  std::string out;
  out.reserve(1024);
  const char* before = out.data();
  for (int i = 0; i < 10; ++i) AppendResp(out, {"HSET", "market:snapshot:SPY", "price", "1.5"});
  EXPECT_EQ(out.data(), before);
}

}  // namespace
}  // namespace physics::redis
