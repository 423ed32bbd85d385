#include "bridge/frame.h"

#include <string>
#include <vector>

#include "bridge/ws_codec.h"
#include "engine/schema/event_header.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace physics::bridge {
namespace {

// The payload of a server frame (header stripped).
std::string_view Payload(const OutFrame& frame) {
  const auto b1 = static_cast<uint8_t>(frame.bytes()[1]);
  const size_t header = b1 < 126 ? 2 : b1 == 126 ? 4 : 10;
  return frame.bytes().substr(header);
}

TEST(Frame, MessageWrapsTheDataVerbatimAndKeepsPadding) {
  const std::string event = R"({"event":"PHYSICS_UPDATE","symbol":"SPY","seq":3,"data":{"x":1.50}})";
  auto frame = BuildMessageFrame("state_update", event, true);
  EXPECT_EQ(Payload(*frame),
            R"({"type":"message","channel":"state_update","data":)" + event + "}");
  EXPECT_EQ(frame->data(), event);
  EXPECT_GE(frame->storage.capacity(), frame->data_offset + event.size() + schema::kJsonPadding);
  schema::EventHeader h;
  ASSERT_TRUE(schema::ParseEventHeader(frame->data(), true, h).ok());
  EXPECT_EQ(h.seq, 3);
}

TEST(Frame, LargeMessagesUseTheExtendedLength) {
  const std::string data = "\"" + std::string(70000, 'a') + "\"";
  auto frame = BuildMessageFrame("c", data, true);
  EXPECT_EQ(static_cast<uint8_t>(frame->bytes()[1]), 127);
  EXPECT_EQ(Payload(*frame).size(), frame->bytes().size() - 10);
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
  EXPECT_EQ(static_cast<uint8_t>(pong->bytes()[0]), 0x8A);
  EXPECT_EQ(Payload(*pong), "abc");
}

TEST(Frame, PackedFramesKeepBytesAndFieldsBackToBackAndParseInPlace) {
  std::vector<FramePtr> frames;
  for (int seq = 1; seq <= 3; ++seq) {
    auto f = BuildMessageFrame("state_update", R"({"event":"PHYSICS_UPDATE","symbol":"SPY","seq":)" +
                                                   std::to_string(seq) + "}", true);
    f->symbol = "SPY";
    f->seq = seq;
    f->received_ns = 100 + seq;
    frames.push_back(std::move(f));
  }
  frames.push_back(MakeTextFrame(R"({"type":"pong"})"));
  std::vector<FramePtr> packed = PackFrames(frames);
  const std::vector<std::string> want = {std::string(frames[0]->bytes()), std::string(frames[1]->bytes()),
                                         std::string(frames[2]->bytes()), std::string(frames[3]->bytes())};
  frames.clear();  // the packed frames own their bytes
  ASSERT_EQ(packed.size(), 4u);
  for (size_t i = 0; i < packed.size(); ++i) {
    EXPECT_EQ(packed[i]->bytes(), want[i]);
    if (i > 0) {
      EXPECT_EQ(packed[i - 1]->bytes().data() + packed[i - 1]->bytes().size(), packed[i]->bytes().data());
    }
  }
  EXPECT_EQ(packed[1]->symbol, "SPY");
  EXPECT_EQ(packed[1]->seq, 2);
  EXPECT_EQ(packed[1]->received_ns, 102);
  // The last message still has kJsonPadding readable bytes after its data.
  schema::EventHeader h;
  ASSERT_TRUE(schema::ParseEventHeader(packed[2]->data(), true, h).ok());
  EXPECT_EQ(h.seq, 3);
  // One frame kept alive alone keeps the buffer alive.
  FramePtr last = packed[3];
  packed.clear();
  EXPECT_EQ(Payload(*last), R"({"type":"pong"})");
}

}  // namespace
}  // namespace physics::bridge
