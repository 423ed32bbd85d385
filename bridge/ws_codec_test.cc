#include "bridge/ws_codec.h"

#include <limits>
#include <random>
#include <string>
#include <vector>

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

TEST(WsCloseCode, AcceptsAssignedAndApplicationCodes) {
  for (const uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                              1014, 3000, 3999, 4000, 4999}) {
    EXPECT_TRUE(IsValidCloseCode(code)) << code;
  }
}

TEST(WsCloseCode, RefusesReservedLocalOnlyUnassignedAndOutOfRangeCodes) {
  for (const uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
                              65535}) {
    EXPECT_FALSE(IsValidCloseCode(code)) << code;
  }
}

std::string ClosePayload(uint16_t code, std::string_view reason = "") {
  std::string out{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  out.append(reason);
  return out;
}

TEST(WsCloseCode, AnswersAClientCloseWithItsCodeOrTheError) {
  const CloseAnswer empty = AnswerClientClose("");
  EXPECT_EQ(empty.code, 1000);
  EXPECT_TRUE(empty.valid);
  const CloseAnswer echoed = AnswerClientClose(ClosePayload(4001, "bye \xce\xba"));
  EXPECT_EQ(echoed.code, 4001);
  EXPECT_TRUE(echoed.valid);
  EXPECT_EQ(echoed.reason, "");
  const CloseAnswer one_byte = AnswerClientClose("\x03");
  EXPECT_EQ(one_byte.code, kCloseProtocolError);
  EXPECT_FALSE(one_byte.valid);
  const CloseAnswer local_only = AnswerClientClose(ClosePayload(1005));
  EXPECT_EQ(local_only.code, kCloseProtocolError);
  EXPECT_FALSE(local_only.valid);
  const CloseAnswer bad_reason = AnswerClientClose(ClosePayload(1000, "\xed\xa0\x80"));
  EXPECT_EQ(bad_reason.code, kCloseInvalidPayload);
  EXPECT_FALSE(bad_reason.valid);
  EXPECT_NE(bad_reason.reason, "");
}

// Well-formed and ill-formed sequences at the edges of Unicode's table of
// well-formed UTF-8 byte sequences.
const std::vector<std::string> kValidUtf8 = {
    "",
    "plain ASCII",
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",  // "kosme" in Greek
    "\xc2\x80",                  // U+0080, first 2-byte
    "\xe0\xa0\x80",              // U+0800, first 3-byte
    "\xed\x9f\xbf",              // U+D7FF, last before the surrogates
    "\xee\x80\x80",              // U+E000, first after them
    "\xef\xbf\xbf",              // U+FFFF
    "\xf0\x90\x80\x80",          // U+10000, first 4-byte
    "\xf4\x8f\xbf\xbf",          // U+10FFFF, the last code point
};
const std::vector<std::string> kInvalidUtf8 = {
    "\x80",                        // lone continuation byte
    "\xc0\xaf",                    // overlong '/'
    "\xc1\xbf",                    // overlong 2-byte
    "\xe0\x80\xaf",                // overlong 3-byte
    "\xf0\x80\x80\xaf",            // overlong 4-byte
    "\xed\xa0\x80",                // U+D800, a surrogate
    "\xed\xbf\xbf",                // U+DFFF, a surrogate
    "\xf4\x90\x80\x80",            // U+110000, above the last code point
    "\xf5\x80\x80\x80",            // lead byte past F4
    "\xfe",
    "\xff",
    "\xce",                        // truncated 2-byte
    "\xe2\x82",                    // truncated 3-byte
    "\xf0\x9f\x98",                // truncated 4-byte
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
    "edited",  // kosme with a surrogate inside
};

TEST(WsUtf8, ValidatesWholeText) {
  for (const std::string& s : kValidUtf8) {
    EXPECT_TRUE(IsValidUtf8(s)) << ::testing::PrintToString(s);
  }
  for (const std::string& s : kInvalidUtf8) {
    EXPECT_FALSE(IsValidUtf8(s)) << ::testing::PrintToString(s);
  }
}

// Feeds `text` in pieces cut at `cuts` (ascending offsets); true when every
// piece was accepted and the text ends at a code point boundary.
bool FeedInPieces(std::string_view text, const std::vector<size_t>& cuts) {
  Utf8Validator v;
  size_t from = 0;
  for (const size_t cut : cuts) {
    if (!v.Feed(text.substr(from, cut - from))) return false;
    from = cut;
  }
  return v.Feed(text.substr(from)) && v.AtBoundary();
}

TEST(WsUtf8, ACodePointSplitBetweenFragmentsIsValid) {
  const std::string text = "a\xce\xba\xe1\xbd\xb9\xf0\x9f\x98\x80z";
  for (size_t cut = 0; cut <= text.size(); ++cut) EXPECT_TRUE(FeedInPieces(text, {cut})) << cut;
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < text.size(); ++i) every_byte.push_back(i);
  EXPECT_TRUE(FeedInPieces(text, every_byte));
}

TEST(WsUtf8, FailsOnTheFragmentThatMakesTheTextInvalid) {
  Utf8Validator v;
  EXPECT_TRUE(v.Feed("ok \xf4"));
  EXPECT_FALSE(v.AtBoundary());
  EXPECT_FALSE(v.Feed("\x90"));  // U+110000 and above: no completion is valid
  v.Reset();
  EXPECT_TRUE(v.Feed("\xed"));
  EXPECT_FALSE(v.Feed("\xa0\x80"));  // a surrogate
  v.Reset();
  EXPECT_FALSE(v.Feed("text then \xc0"));  // C0 can only start an overlong form
  v.Reset();
  EXPECT_FALSE(v.Feed("\xe0\x80"));  // overlong whatever follows
}

TEST(WsUtf8, AMessageEndingInsideACodePointIsNotAtABoundary) {
  Utf8Validator v;
  EXPECT_TRUE(v.Feed("\xe2\x82"));
  EXPECT_FALSE(v.AtBoundary());
  EXPECT_TRUE(v.Feed("\xac"));  // U+20AC
  EXPECT_TRUE(v.AtBoundary());
}

// However a text is cut into fragments, the validator agrees with the
// whole-text check: random concatenations of valid and invalid sequences,
// cut at random places.
TEST(WsUtf8, FragmentedCheckAgreesWithTheWholeTextCheck) {
  std::mt19937 rng(6455);
  std::vector<std::string> pieces = kValidUtf8;
  pieces.insert(pieces.end(), kInvalidUtf8.begin(), kInvalidUtf8.end());
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const int count = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int i = 0; i < count; ++i) {
      text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    }
    std::vector<size_t> cuts;
    for (size_t i = 1; i < text.size(); ++i) {
      if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) cuts.push_back(i);
    }
    ASSERT_EQ(FeedInPieces(text, cuts), IsValidUtf8(text)) << ::testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace physics::bridge
