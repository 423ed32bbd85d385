#include "bridge/client_request.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

TEST(ClientRequest, ParsesSubscribeWithNormalisedDeduplicatedSymbols) {
  ClientRequest r;
  ASSERT_FALSE(ParseClientRequest(
      R"({"type":"subscribe","channel":"state_update","symbols":["spy","QQQ","SPY"]})", r));
  EXPECT_EQ(r.type, ClientRequest::Type::kSubscribe);
  EXPECT_EQ(r.channel, "state_update");
  ASSERT_TRUE(r.symbols.has_value());
  EXPECT_EQ(*r.symbols, (std::vector<std::string>{"QQQ", "SPY"}));
}

TEST(ClientRequest, SymbolsAndChannelAreOptional) {
  ClientRequest r;
  ASSERT_FALSE(ParseClientRequest(R"({"type":"subscribe"})", r));
  EXPECT_EQ(r.channel, "state_update");
  EXPECT_FALSE(r.symbols.has_value());
  ASSERT_FALSE(ParseClientRequest(R"({"type":"subscribe","symbols":null})", r));
  EXPECT_FALSE(r.symbols.has_value());
}

TEST(ClientRequest, ParsesUnsubscribeAndPing) {
  ClientRequest r;
  ASSERT_FALSE(ParseClientRequest(R"({"type":"unsubscribe","channel":"state_update"})", r));
  EXPECT_EQ(r.type, ClientRequest::Type::kUnsubscribe);
  ASSERT_FALSE(ParseClientRequest(R"( {"type":"ping"} )", r));
  EXPECT_EQ(r.type, ClientRequest::Type::kPing);
}

TEST(ClientRequest, RefusesBadInputWithAReason) {
  struct Case {
    const char* text;
    ClientError kind;
    const char* says;
  };
  for (const Case& c : {
           Case{"not json", ClientError::kBadJson, "invalid JSON"},
           Case{R"({"type":"ping"} trailing)", ClientError::kBadJson, "invalid JSON"},
           Case{"[1]", ClientError::kBadJson, "object"},
           Case{R"({"kind":"ping"})", ClientError::kBadRequest, "type"},
           Case{R"({"type":"bogus"})", ClientError::kBadRequest, "unknown type \"bogus\""},
           Case{R"({"type":"subscribe","channel":5})", ClientError::kBadRequest, "channel"},
           Case{R"({"type":"subscribe","symbols":"SPY"})", ClientError::kBadRequest, "array"},
           Case{R"({"type":"subscribe","symbols":[]})", ClientError::kBadRequest, "empty"},
           Case{R"({"type":"subscribe","symbols":[1]})", ClientError::kBadRequest, "array"},
           Case{R"({"type":"subscribe","symbols":["S P Y"]})", ClientError::kBadRequest, "bad symbol"},
       }) {
    ClientRequest r;
    std::optional<RequestError> e = ParseClientRequest(c.text, r);
    ASSERT_TRUE(e.has_value()) << c.text;
    EXPECT_EQ(e->kind, c.kind) << c.text;
    EXPECT_NE(e->message.find(c.says), std::string::npos) << c.text << " -> " << e->message;
  }
}

}  // namespace
}  // namespace physics::bridge
