#include "engine/schema/state_message.h"

#include "gtest/gtest.h"
#include "simdjson.h"

namespace physics::schema {
namespace {

StateFields SpyState() {
  StateFields s;
  s.mass = 0.42;
  s.momentum = 1.23;
  s.friction = 0.15;
  s.entropy = 3.08;
  s.nash_dist = 0.05;
  s.regime = "Gaussian";
  s.alpha = 2.8;
  s.price = 450.32;
  s.seq = 1842;
  s.timestamp = 1766318400LL * 1'000'000 + 123456;
  return s;
}

TEST(StateMessage, StateMatchesSpecShape) {
  std::string out;
  AppendStateJson(SpyState(), out);
  EXPECT_EQ(out,
            R"({"mass":0.42,"momentum":1.23,"friction":0.15,"entropy":3.08,"nash_dist":0.05,)"
            R"("regime":"Gaussian","alpha_coefficient":2.8,"price":450.32,"seq":1842,)"
            R"("timestamp":"2025-12-21T12:00:00.123456Z"})");
}

// The event and the snapshot repeat these texts from the state, so they must
// point at exactly the numbers and the timestamp, also after other text.
TEST(StateMessage, ReportsWhereAlphaPriceAndTimestampWereWritten) {
  std::string out = "prefix";
  const StateJsonTexts texts = AppendStateJson(SpyState(), out);
  EXPECT_EQ(texts.alpha.In(out), "2.8");
  EXPECT_EQ(texts.price.In(out), "450.32");
  EXPECT_EQ(texts.timestamp.In(out), "2025-12-21T12:00:00.123456Z");
}

TEST(StateMessage, NeverWritesNanOrInfinity) {
  StateFields s = SpyState();
  s.mass = NAN;
  s.momentum = INFINITY;
  std::string out;
  AppendStateJson(s, out);
  EXPECT_EQ(out.find("nan"), std::string::npos);
  EXPECT_EQ(out.find("inf"), std::string::npos);
  simdjson::dom::parser parser;
  EXPECT_FALSE(parser.parse(out).error());
}

TEST(StateMessage, DoublesRoundTrip) {
  StateFields s = SpyState();
  s.mass = 0.1 + 0.2;
  s.momentum = -1e-300;
  std::string out;
  AppendStateJson(s, out);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(out);
  EXPECT_EQ(double(doc["mass"]), 0.1 + 0.2);
  EXPECT_EQ(double(doc["momentum"]), -1e-300);
}

TEST(StateMessage, EventWrapsStateWithAlphaAlias) {
  std::string state;
  AppendStateJson(SpyState(), state);
  std::string event;
  ASSERT_TRUE(EventFromStateJson("SPY", state, event).ok());
  EXPECT_EQ(event,
            R"({"event":"PHYSICS_UPDATE","symbol":"SPY","timestamp":"2025-12-21T12:00:00.123456Z",)"
            R"("seq":1842,"data":{"alpha":2.8,"mass":0.42,"momentum":1.23,"friction":0.15,)"
            R"("entropy":3.08,"nash_dist":0.05,"regime":"Gaussian","alpha_coefficient":2.8,)"
            R"("price":450.32,"seq":1842,"timestamp":"2025-12-21T12:00:00.123456Z"}})");
}

TEST(StateMessage, EventFromStateMatchesDirectEncoding) {
  std::string state;
  AppendStateJson(SpyState(), state);
  std::string direct;
  AppendEventJson("SPY", "2025-12-21T12:00:00.123456Z", 1842, "2.8", state, direct);
  std::string rebuilt;
  ASSERT_TRUE(EventFromStateJson("SPY", state, rebuilt).ok());
  EXPECT_EQ(direct, rebuilt);
}

TEST(StateMessage, RejectsStoredValuesThatAreNotStates) {
  std::string out;
  for (const char* bad : {"", "not json", "[]", R"({"mass":1})", R"({"seq":"x"})"}) {
    EXPECT_EQ(EventFromStateJson("SPY", bad, out).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace physics::schema
