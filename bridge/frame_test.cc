#include "bridge/frame.h"

#include "bridge/ws_codec.h"
#include "engine/schema/event_header.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace physics::bridge {
namespace {

// The payload of a server frame (header stripped).
std::string_view Payload(const OutFrame& frame) {
  const auto b1 = static_cast<uint8_t>(frame.bytes[1]);
  const size_t header = b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
  return std::string_view(frame.bytes).substr(header);
}

TEST(Frame, MessageWrapsTheDataVerbatimAndKeepsPadding) {
  const std::string event = R"({"event":"PHYSICS_UPDATE","symbol":"SPY","seq":3,"data":{"x":1.50}})";
  auto frame = BuildMessageFrame("state_update", event, true);
  EXPECT_EQ(Payload(*frame),
            R"({"type":"message","channel":"state_update","data":)" + event + "}");
  EXPECT_EQ(frame->data(), event);
  EXPECT_GE(frame->bytes.capacity(), frame->data_offset + event.size() + schema::kJsonPadding);
  schema::EventHeader h;
  ASSERT_TRUE(schema::ParseEventHeader(frame->data(), true, h).ok());
  EXPECT_EQ(h.seq, 3);
}

TEST(Frame, LargeMessagesUseTheExtendedLength) {
  const std::string data = "\"" + std::string(70000, 'a') + "\"";
  auto frame = BuildMessageFrame("c", data, true);
  EXPECT_EQ(static_cast<uint8_t>(frame->bytes[1]), 127);
  EXPECT_EQ(Payload(*frame).size(), frame->bytes.size() - 10);
}

TEST(Frame, NonJsonDataIsSentAsAJsonString) {
  auto frame = BuildMessageFrame("alerts", "say \"hi\"\n", false);
  EXPECT_EQ(Payload(*frame), R"({"type":"message","channel":"alerts","data":"say \"hi\"\u000a"})");
}

TEST(Frame, RepliesAreValidJson) {
  simdjson::dom::parser parser;
  for (const FramePtr& f : {MakeErrorFrame("bad \"x\"\\"), MakeChannelReplyFrame("subscribed", "state_update"),
                            MakeTextFrame(R"({"type":"pong"})")}) {
    const std::string payload(Payload(*f));
    EXPECT_FALSE(parser.parse(payload).error()) << payload;
  }
  EXPECT_EQ(Payload(*MakeErrorFrame("oops")), R"({"type":"error","error":"oops"})");
}

TEST(Frame, PongEchoesThePingPayload) {
  const FramePtr pong = MakePongFrame("abc");
  EXPECT_EQ(static_cast<uint8_t>(pong->bytes[0]), 0x8A);
  EXPECT_EQ(Payload(*pong), "abc");
}

}  // namespace
}  // namespace physics::bridge
