#include "bridge/ws_codec.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

std::string Masked(Opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  AppendMaskedFrame(op, fin, payload, 0xA1B2C3D4, out);
  return out;
}

TEST(WsCodec, HeaderSizeFollowsTheLengthEncoding) {
  EXPECT_EQ(FrameHeaderSize(0), 2u);
  EXPECT_EQ(FrameHeaderSize(125), 2u);
  EXPECT_EQ(FrameHeaderSize(126), 4u);
  EXPECT_EQ(FrameHeaderSize(65535), 4u);
  EXPECT_EQ(FrameHeaderSize(65536), 10u);
}

TEST(WsCodec, ServerFramesAreFinalAndUnmasked) {
  for (size_t size : {size_t{5}, size_t{300}, size_t{70000}}) {
    std::string out;
    AppendFrameHeader(Opcode::kText, size, out);
    ASSERT_EQ(out.size(), FrameHeaderSize(size));
    EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x81);
    EXPECT_EQ(static_cast<uint8_t>(out[1]) & 0x80, 0);
  }
  std::string out;
  AppendFrameHeader(Opcode::kText, 300, out);
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 126);
  EXPECT_EQ((static_cast<uint8_t>(out[2]) << 8) | static_cast<uint8_t>(out[3]), 300);
}

TEST(WsCodec, CloseFrameCarriesCodeAndTruncatedReason) {
  const std::string frame = MakeCloseFrame(1009, std::string(200, 'r'));
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x88);
  EXPECT_EQ(static_cast<uint8_t>(frame[1]), 125);
  EXPECT_EQ(frame.size(), 127u);
  EXPECT_EQ((static_cast<uint8_t>(frame[2]) << 8) | static_cast<uint8_t>(frame[3]), 1009);
}

TEST(WsCodec, DecodesAndUnmasksClientFrames) {
  for (size_t size : {size_t{0}, size_t{17}, size_t{200}, size_t{70000}}) {
    const std::string payload(size, 'p');
    std::string wire = Masked(Opcode::kText, payload) + "next";
    DecodedFrame f;
    ASSERT_EQ(DecodeClientFrame(wire.data(), wire.size(), 1 << 20, f), DecodeStatus::kFrame);
    EXPECT_EQ(f.opcode, Opcode::kText);
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.payload, payload);
    EXPECT_EQ(f.consumed, wire.size() - 4);
  }
}

TEST(WsCodec, ReportsIncompleteUntilTheWholeFrameArrived) {
  std::string wire = Masked(Opcode::kText, "hello");
  for (size_t n = 0; n < wire.size(); ++n) {
    std::string part = wire.substr(0, n);
    DecodedFrame f;
    EXPECT_EQ(DecodeClientFrame(part.data(), part.size(), 100, f), DecodeStatus::kIncomplete) << n;
  }
}

// Found by tests/fuzz (fuzz_ws_frame): with no practical limit, a 64-bit
// length near 2^64 wrapped header + length and the payload was unmasked past
// the end of the buffer.
TEST(WsCodec, HugeLengthWithoutALimitIsIncompleteNotAnOverrun) {
  // Final continuation frame, masked, 64-bit length 2^64 - 1, mask key.
  std::string wire = std::string("\x80\xff", 2) + std::string(8, '\xff') + std::string(4, '\x5a');
  DecodedFrame f;
  EXPECT_EQ(DecodeClientFrame(wire.data(), wire.size(), std::numeric_limits<size_t>::max(), f),
            DecodeStatus::kIncomplete);
}

TEST(WsCodec, RefusesTooBigFromTheHeaderAlone) {
  std::string wire = Masked(Opcode::kText, std::string(5000, 'x')).substr(0, 8);
  DecodedFrame f;
  EXPECT_EQ(DecodeClientFrame(wire.data(), wire.size(), 4096, f), DecodeStatus::kTooBig);
}

TEST(WsCodec, RefusesProtocolViolations) {
  DecodedFrame f;
  std::string unmasked;
  AppendFrameHeader(Opcode::kText, 2, unmasked);
  unmasked += "hi";
  EXPECT_EQ(DecodeClientFrame(unmasked.data(), unmasked.size(), 100, f), DecodeStatus::kProtocol);
  std::string rsv = Masked(Opcode::kText, "hi");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  EXPECT_EQ(DecodeClientFrame(rsv.data(), rsv.size(), 100, f), DecodeStatus::kProtocol);
  std::string opcode = Masked(Opcode::kText, "hi");
  opcode[0] = static_cast<char>(0x83);
  EXPECT_EQ(DecodeClientFrame(opcode.data(), opcode.size(), 100, f), DecodeStatus::kProtocol);
  std::string fragmented_ping = Masked(Opcode::kPing, "hi", /*fin=*/false);
  EXPECT_EQ(DecodeClientFrame(fragmented_ping.data(), fragmented_ping.size(), 100, f),
            DecodeStatus::kProtocol);
  std::string long_ping = Masked(Opcode::kPing, std::string(126, 'x'));
  EXPECT_EQ(DecodeClientFrame(long_ping.data(), long_ping.size(), 1000, f), DecodeStatus::kProtocol);
}

}  // namespace
}  // namespace physics::bridge
