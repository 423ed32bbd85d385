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

// Found by tests/fuzz (fuzz_client_request): client text was quoted raw and cut
// at 40 bytes, so an error could span lines or end inside a UTF-8 character,
// which a text frame must not carry.
TEST(ClientRequest, ErrorsQuoteClientTextAsOneLineOfAscii) {
  ClientRequest r;
  std::optional<RequestError> e = ParseClientRequest(
      R"({"type":"subscribe","symbols":["spy","nfnubscribnnnnnnnnnnn.\nnnnnnnnnSPY"]})", r);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->message.find(R"("nfnubscribnnnnnnnnnnn.\nnnnnnnnnSPY")"), std::string::npos) << e->message;

  const std::string type = std::string(39, 'x') + "\xc3\xa9";  // the cut falls inside the é
  e = ParseClientRequest(R"({"type":")" + type + R"("})", r);
  ASSERT_TRUE(e.has_value());
  for (const char c : e->message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << e->message;
  EXPECT_NE(e->message.find(std::string(39, 'x') + "\\xc3...\""), std::string::npos) << e->message;
}

}  // namespace
}  // namespace physics::bridge
