// RFC 6455 conformance of the bridge's GET /ws as an independent client sees
// it: every frame sent here is built by this file's own encoder from the RFC's
// byte layout (§5.2), and every answer is parsed here from raw bytes, so a
// misreading shared by bridge/ws_codec and its unit tests cannot hide. The
// cases follow Autobahn|Testsuite sections 1-7: framing, pings and pongs,
// reserved bits and opcodes, fragmentation, UTF-8, the close handshake.
// Each case runs on a fresh connection to the real physics-bridge process.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/testing/bridge_fixture.h"
#include "gtest/gtest.h"

namespace physics::bridge::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(3);

// Opcodes (§5.2), spelled out here rather than taken from bridge/ws_codec.h.
constexpr uint8_t kContinuation = 0x0;
constexpr uint8_t kText = 0x1;
constexpr uint8_t kBinary = 0x2;
constexpr uint8_t kClose = 0x8;
constexpr uint8_t kPing = 0x9;
constexpr uint8_t kPong = 0xA;
constexpr uint8_t kFin = 0x80;

// One client frame (§5.2): byte 0 is FIN, RSV1-3 and the opcode, as given;
// byte 1 is MASK and a 7-bit length, or 126 then a 16-bit or 127 then a
// 64-bit length in network order; then the 4-byte masking key and the payload
// XORed with key[i % 4] (§5.3).
std::string RawFrame(uint8_t first_byte, std::string_view payload, bool masked = true) {
  static constexpr uint8_t kKey[4] = {0x5b, 0xe3, 0x09, 0xa7};
  std::string out(1, static_cast<char>(first_byte));
  const uint8_t mask_bit = masked ? 0x80 : 0x00;
  const uint64_t size = payload.size();
  if (size <= 125) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  }
  if (!masked) return out.append(payload);
  out.append(reinterpret_cast<const char*>(kKey), sizeof(kKey));
  for (size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ kKey[i % 4]));
  }
  return out;
}

std::string Final(uint8_t opcode, std::string_view payload) {
  return RawFrame(kFin | opcode, payload);
}
std::string NotFinal(uint8_t opcode, std::string_view payload) { return RawFrame(opcode, payload); }

// A close frame's body (§5.5.1): the code in network order, then the reason.
std::string CloseBody(uint16_t code, std::string_view reason = "") {
  std::string out{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return out.append(reason);
}

// `text` as one text message cut into one-byte fragments: a text frame, then
// continuation frames, the last one final.
std::vector<std::string> BytePerFragment(std::string_view text) {
  std::vector<std::string> frames;
  for (size_t i = 0; i < text.size(); ++i) {
    const uint8_t opcode = i == 0 ? kText : kContinuation;
    frames.push_back(RawFrame((i + 1 == text.size() ? kFin : 0) | opcode, text.substr(i, 1)));
  }
  return frames;
}

constexpr char kPingRequest[] = R"({"type":"ping"})";
constexpr char kPongReply[] = R"({"type":"pong"})";

// A request whose error reply quotes `text` back (the bridge names an unknown
// channel), so a reply proves the text arrived whole. `text` holds no '"' or
// '\' and is shorter than the 64 bytes the reply quotes.
std::string ChannelRequest(std::string_view text) {
  return std::string(R"({"type":"subscribe","channel":")").append(text).append(R"("})");
}

std::string Escaped(std::string_view bytes) {
  bytes = bytes.substr(0, 80);
  return absl::CHexEscape(absl::string_view(bytes.data(), bytes.size()));
}

// A server frame read from raw bytes.
struct ServerFrame {
  uint8_t first_byte = 0;
  std::string payload;

  uint8_t opcode() const { return first_byte & 0x0F; }
  uint16_t close_code() const {
    if (payload.size() < 2) return 0;
    return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                 static_cast<uint8_t>(payload[1]));
  }
};

// "opcode N \"payload\"" or "close CODE \"reason\"", escaped and cut short.
std::string Show(const ServerFrame& f) {
  if (f.opcode() == kClose) {
    const std::string_view reason =
        std::string_view(f.payload).substr(std::min<size_t>(2, f.payload.size()));
    return absl::StrCat("close ", f.close_code(), " \"", Escaped(reason), "\"");
  }
  return absl::StrCat("opcode ", f.opcode(), " \"", Escaped(f.payload), "\"");
}

// Reads the server's next frame (§5.2). A server frame must not be masked
// (§5.1), carries no RSV bits (no extension was negotiated) and, when it is a
// control frame, is final with at most 125 payload bytes (§5.5).
absl::StatusOr<ServerFrame> ReadServerFrame(WsTestClient& ws, absl::Time deadline) {
  absl::StatusOr<std::string> head = ws.ReadRaw(2, deadline - absl::Now());
  if (!head.ok()) return head.status();
  ServerFrame frame;
  frame.first_byte = static_cast<uint8_t>((*head)[0]);
  const auto second = static_cast<uint8_t>((*head)[1]);
  if ((second & 0x80) != 0) return absl::InternalError("the server masked a frame");
  if ((frame.first_byte & 0x70) != 0) return absl::InternalError("the server set RSV bits");
  uint64_t length = second & 0x7F;
  if (length >= 126) {
    absl::StatusOr<std::string> extended =
        ws.ReadRaw(length == 126 ? 2 : 8, deadline - absl::Now());
    if (!extended.ok()) return extended.status();
    length = 0;
    for (const char c : *extended) length = (length << 8) | static_cast<uint8_t>(c);
  }
  if ((frame.opcode() & 0x8) != 0 && ((frame.first_byte & kFin) == 0 || length > 125)) {
    return absl::InternalError(absl::StrCat("bad control frame from the server: ", frame.first_byte,
                                            ", length ", length));
  }
  absl::StatusOr<std::string> payload = ws.ReadRaw(length, deadline - absl::Now());
  if (!payload.ok()) return payload.status();
  frame.payload = *std::move(payload);
  return frame;
}

// What the server is expected to send next.
struct Answer {
  uint8_t opcode = kText;
  std::string payload;      // kPong: the whole payload; kText: a part of it
  uint16_t close_code = 0;  // kClose
  bool failed = false;      // kClose: the server fails the connection (RFC §7.1.7)
};

Answer Pong(std::string_view payload) { return {kPong, std::string(payload), 0, false}; }
Answer TextWith(std::string_view part) { return {kText, std::string(part), 0, false}; }
// The closing handshake: the server answers a close with `code`.
Answer CloseWith(uint16_t code) { return {kClose, "", code, false}; }
// The server fails the connection for a protocol violation, with `code`.
Answer FailsWith(uint16_t code) { return {kClose, "", code, true}; }

void ExpectMatches(const ServerFrame& got, const Answer& want) {
  ASSERT_EQ(int{got.opcode()}, int{want.opcode}) << "got " << Show(got);
  switch (want.opcode) {
    case kPong:
      EXPECT_EQ(got.payload, want.payload) << "got " << Show(got);
      break;
    case kText:
      EXPECT_NE(got.payload.find(want.payload), std::string::npos)
          << "got " << Show(got) << ", expected it to contain " << Escaped(want.payload);
      break;
    case kClose:
      EXPECT_EQ(got.close_code(), want.close_code) << "got " << Show(got);
      break;
  }
}

struct Case {
  std::string name;
  std::vector<std::string> writes;  // sent in order, one write each
  // The server's frames, in order. When they do not end with a close, the
  // connection must still be open after them: the runner then sends a close
  // 1000 and expects 1000 back.
  std::vector<Answer> answers;
};

// Runs one case on a fresh connection and checks the answers; after the
// server's close frame the server must end the TCP connection (§7.1.1) and
// send nothing more (in particular nothing for what was sent after a close).
// Each write goes out on its own (TCP_NODELAY), so the fragments of a message
// usually reach the server one at a time, as Autobahn sends them.
void RunCase(int port, const Case& c) {
  SCOPED_TRACE(c.name);
  absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port);
  ASSERT_TRUE(ws.ok()) << ws.status();
  std::vector<Answer> answers = c.answers;
  const bool server_closes = !answers.empty() && answers.back().opcode == kClose;
  // Every write must go through, also those after the server's close frame:
  // the server drops them, it does not reset the connection.
  for (const std::string& bytes : c.writes) ASSERT_TRUE(ws->SendRaw(bytes).ok());
  if (!server_closes) {
    ASSERT_TRUE(ws->SendRaw(Final(kClose, CloseBody(1000))).ok());
    answers.push_back(CloseWith(1000));
  }
  const absl::Time deadline = absl::Now() + kWait;
  for (size_t i = 0; i < answers.size(); ++i) {
    absl::StatusOr<ServerFrame> got = ReadServerFrame(*ws, deadline);
    ASSERT_TRUE(got.ok()) << "answer " << i << ": " << got.status();
    ExpectMatches(*got, answers[i]);
    if (::testing::Test::HasFatalFailure()) return;
  }
  const absl::Status closed = ws->WaitForClose(kWait);
  EXPECT_TRUE(closed.ok()) << closed;
}

class WsConformanceTest : public BridgeTest {
 protected:
  // Frames up to 128 KiB, so a 64-bit length can be tried on a valid frame.
  void SetUp() override {
    BridgeTest::SetUp();
    StartBridge({"--max-frame-bytes", "131072"});
  }

  // Runs every case, then checks that each connection the server failed was
  // counted as a protocol error.
  void RunCases(const std::vector<Case>& cases) {
    int failed = 0;
    for (const Case& c : cases) {
      RunCase(port_, c);
      if (!c.answers.empty() && c.answers.back().failed) ++failed;
    }
    EXPECT_EQ(Metric(R"(bridge_client_errors_total{reason="protocol"})"), failed);
  }
};

// Autobahn 1-4: lengths, pings and pongs, reserved bits and opcodes, masking.
TEST_F(WsConformanceTest, FramingPingsReservedBitsOpcodesAndMasking) {
  std::string binary_125;  // the longest ping payload, binary: 3, 5, 7, ..., 251
  for (int i = 0; i < 125; ++i) binary_125.push_back(static_cast<char>(i * 2 + 3));
  std::vector<std::string> ten_pings;
  std::vector<Answer> ten_pongs;
  for (int i = 0; i < 10; ++i) {
    ten_pings.push_back(Final(kPing, absl::StrCat("ping ", i)));
    ten_pongs.push_back(Pong(absl::StrCat("ping ", i)));
  }
  std::vector<Case> cases = {
      {"text, 7-bit length", {Final(kText, kPingRequest)}, {TextWith(kPongReply)}},
      {"text, 16-bit length",
       {Final(kText, absl::StrCat(kPingRequest, std::string(300, ' ')))},
       {TextWith(kPongReply)}},
      {"text, 64-bit length",
       {Final(kText, absl::StrCat(kPingRequest, std::string(70000, ' ')))},
       {TextWith(kPongReply)}},
      {"empty text message: valid UTF-8, bad request", {Final(kText, "")}, {TextWith("error")}},
      {"binary message: refused by the application", {Final(kBinary, "\x01\x02")},
       {TextWith("binary")}},
      {"ping, empty", {Final(kPing, "")}, {Pong("")}},
      {"ping, 125 bytes echoed", {Final(kPing, binary_125)}, {Pong(binary_125)}},
      {"ping, 126 bytes", {Final(kPing, std::string(126, 'x'))}, {FailsWith(1002)}},
      {"ping, not final", {NotFinal(kPing, "a"), Final(kContinuation, "b")}, {FailsWith(1002)}},
      {"ten pings, ten pongs in order", ten_pings, ten_pongs},
      {"unsolicited pong ignored", {Final(kPong, "unasked"), Final(kPing, "after")},
       {Pong("after")}},
      {"pong, 126 bytes", {Final(kPong, std::string(126, 'x'))}, {FailsWith(1002)}},
      {"unmasked text", {RawFrame(kFin | kText, kPingRequest, /*masked=*/false)},
       {FailsWith(1002)}},
      {"unmasked ping", {RawFrame(kFin | kPing, "hi", /*masked=*/false)}, {FailsWith(1002)}},
      {"unmasked close", {RawFrame(kFin | kClose, CloseBody(1000), /*masked=*/false)},
       {FailsWith(1002)}},
      {"RSV bit after a valid message, before a ping",
       {Final(kText, kPingRequest), RawFrame(kFin | 0x20 | kText, kPingRequest), Final(kPing, "")},
       {TextWith(kPongReply), FailsWith(1002)}},
  };
  const std::pair<uint8_t, const char*> reserved_bits[] = {
      {0x40, "RSV1"}, {0x20, "RSV2"}, {0x10, "RSV3"}, {0x70, "RSV1-3"}};
  for (const auto& [bits, name] : reserved_bits) {
    cases.push_back({absl::StrCat(name, " on text"), {RawFrame(kFin | bits | kText, kPingRequest)},
                     {FailsWith(1002)}});
    cases.push_back({absl::StrCat(name, " on ping"), {RawFrame(kFin | bits | kPing, "")},
                     {FailsWith(1002)}});
  }
  for (const uint8_t opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    cases.push_back(
        {absl::StrCat("reserved opcode ", opcode), {Final(opcode, "")}, {FailsWith(1002)}});
    cases.push_back({absl::StrCat("reserved opcode ", opcode, " with payload, after a message"),
                     {Final(kText, kPingRequest), Final(opcode, "reserved"), Final(kPing, "")},
                     {TextWith(kPongReply), FailsWith(1002)}});
  }
  RunCases(cases);
}

// Autobahn 5: fragmentation, control frames between fragments.
TEST_F(WsConformanceTest, Fragmentation) {
  const std::vector<Case> cases = {
      {"text in 2 fragments", {NotFinal(kText, R"({"type":)"), Final(kContinuation, R"("ping"})")},
       {TextWith(kPongReply)}},
      {"text in 3 fragments, the middle one empty",
       {NotFinal(kText, R"({"type":)"), NotFinal(kContinuation, ""),
        Final(kContinuation, R"("ping"})")},
       {TextWith(kPongReply)}},
      {"text in 3 fragments in one write",
       {NotFinal(kText, R"({"ty)") + NotFinal(kContinuation, R"(pe":"pi)") +
        Final(kContinuation, R"(ng"})")},
       {TextWith(kPongReply)}},
      {"text one byte per fragment", BytePerFragment(kPingRequest), {TextWith(kPongReply)}},
      {"ping between fragments: answered, the message completes",
       {NotFinal(kText, R"({"type":)"), Final(kPing, "between"),
        Final(kContinuation, R"("ping"})")},
       {Pong("between"), TextWith(kPongReply)}},
      {"pings between every fragment",
       {NotFinal(kText, R"({"type")"), Final(kPing, "1"), NotFinal(kContinuation, R"(:"ping)"),
        Final(kPing, "2"), Final(kContinuation, R"("})")},
       {Pong("1"), Pong("2"), TextWith(kPongReply)}},
      {"pong between fragments: ignored",
       {NotFinal(kText, R"({"type":)"), Final(kPong, "x"), Final(kContinuation, R"("ping"})")},
       {TextWith(kPongReply)}},
      {"close between fragments: answered, the rest ignored",
       {NotFinal(kText, R"({"type":)"), Final(kClose, CloseBody(1000)),
        Final(kContinuation, R"("ping"})")},
       {CloseWith(1000)}},
      {"binary in 2 fragments: refused by the application",
       {NotFinal(kBinary, "\x01"), Final(kContinuation, "\x02")}, {TextWith("binary")}},
      {"final continuation, no message in progress", {Final(kContinuation, kPingRequest)},
       {FailsWith(1002)}},
      {"continuation, no message in progress, then text",
       {NotFinal(kContinuation, "x"), Final(kText, kPingRequest)}, {FailsWith(1002)}},
      {"continuation after a finished message",
       {Final(kText, kPingRequest), Final(kContinuation, "x")},
       {TextWith(kPongReply), FailsWith(1002)}},
      {"text frame inside a fragmented message",
       {NotFinal(kText, R"({"type":)"), Final(kText, kPingRequest)}, {FailsWith(1002)}},
      {"text start inside a fragmented message",
       {NotFinal(kText, R"({"type":)"), NotFinal(kText, R"({"type":)")}, {FailsWith(1002)}},
      {"binary frame inside a fragmented text message",
       {NotFinal(kText, R"({"type":)"), Final(kBinary, "x")}, {FailsWith(1002)}},
      {"fragmented pong", {NotFinal(kPong, "a"), Final(kContinuation, "b")}, {FailsWith(1002)}},
      {"fragmented close", {NotFinal(kClose, CloseBody(1000)), Final(kContinuation, "")},
       {FailsWith(1002)}},
      {"fragmented ping inside a fragmented message",
       {NotFinal(kText, R"({"type":)"), NotFinal(kPing, "a"), Final(kContinuation, R"("ping"})")},
       {FailsWith(1002)}},
  };
  RunCases(cases);
}

struct Utf8Sample {
  std::string name;
  std::string bytes;
};

// Autobahn 6: UTF-8 in text messages, whole and split across fragments.
TEST_F(WsConformanceTest, TextMustBeUtf8) {
  const std::vector<Utf8Sample> valid = {
      {"Greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},
      {"U+0080", "\xc2\x80"},
      {"U+07FF and U+0800", "\xdf\xbf\xe0\xa0\x80"},
      {"U+D7FF and U+E000 around the surrogates", "\xed\x9f\xbf\xee\x80\x80"},
      {"U+FFFF", "\xef\xbf\xbf"},
      {"U+10000 and an emoji", "\xf0\x90\x80\x80\xf0\x9f\x98\x80"},
      {"U+10FFFF", "\xf4\x8f\xbf\xbf"},
  };
  // Each is invalid from its last byte on, at the latest.
  const std::vector<Utf8Sample> invalid = {
      {"lone continuation byte", "\x80"},
      {"overlong '/' in 2 bytes", "\xc0\xaf"},
      {"overlong in 3 bytes", "\xe0\x80\xaf"},
      {"overlong in 4 bytes", "\xf0\x80\x80\xaf"},
      {"high surrogate U+D800", "\xed\xa0\x80"},
      {"low surrogate U+DFFF", "\xed\xbf\xbf"},
      {"U+110000, above U+10FFFF", "\xf4\x90\x80\x80"},
      {"lead byte F5", "\xf5\x80\x80\x80"},
      {"byte FE", "\xfe"},
      {"byte FF", "\xff"},
      {"kosme with a surrogate inside", "\xce\xba\xe1\xbd\xb9\xed\xa0\x80\xce\xbc\xce\xb5"},
  };
  // Valid up to the end of the message, which cuts a code point short.
  const std::vector<Utf8Sample> truncated = {
      {"2-byte sequence cut after 1", "\xce"},
      {"3-byte sequence cut after 2", "\xe2\x82"},
      {"4-byte sequence cut after 3", "\xf0\x9f\x98"},
  };
  std::vector<Case> cases;
  for (const Utf8Sample& s : valid) {
    const std::string request = ChannelRequest(s.bytes);
    cases.push_back({"valid, one frame: " + s.name, {Final(kText, request)}, {TextWith(s.bytes)}});
    cases.push_back({"valid, one byte per fragment: " + s.name, BytePerFragment(request),
                     {TextWith(s.bytes)}});
    // Split inside the first multi-byte code point.
    const size_t split = request.find(s.bytes) + 1;
    cases.push_back({"valid, a code point split between 2 fragments: " + s.name,
                     {NotFinal(kText, request.substr(0, split)),
                      Final(kContinuation, request.substr(split))},
                     {TextWith(s.bytes)}});
  }
  for (const Utf8Sample& s : invalid) {
    const std::string text = absl::StrCat("ok ", s.bytes, " ok");
    cases.push_back({"invalid, one frame: " + s.name, {Final(kText, text)}, {FailsWith(1007)}});
    cases.push_back({"invalid, one byte per fragment: " + s.name, BytePerFragment(text),
                     {FailsWith(1007)}});
    // Fails fast: the first fragment already cannot be UTF-8, and the server
    // closes without waiting for the rest of the message.
    cases.push_back({"invalid, first fragment alone: " + s.name,
                     {NotFinal(kText, absl::StrCat("ok ", s.bytes))}, {FailsWith(1007)}});
  }
  for (const Utf8Sample& s : truncated) {
    const std::string text = absl::StrCat("ok ", s.bytes);
    cases.push_back({"truncated, one frame: " + s.name, {Final(kText, text)}, {FailsWith(1007)}});
    cases.push_back({"truncated, one byte per fragment: " + s.name, BytePerFragment(text),
                     {FailsWith(1007)}});
    cases.push_back({"truncated, then an empty final fragment: " + s.name,
                     {NotFinal(kText, text), Final(kContinuation, "")}, {FailsWith(1007)}});
  }
  RunCases(cases);
}

// Autobahn 7: the close handshake, close codes and reasons.
TEST_F(WsConformanceTest, CloseHandshakeCodesAndReasons) {
  std::vector<Case> cases = {
      {"empty close", {Final(kClose, "")}, {CloseWith(1000)}},
      {"close, then text ignored, one write",
       {Final(kClose, CloseBody(1000)) + Final(kText, kPingRequest)}, {CloseWith(1000)}},
      {"close, then ping ignored, two writes",
       {Final(kClose, CloseBody(1000)), Final(kPing, "late")}, {CloseWith(1000)}},
      {"close with a 1-byte payload", {Final(kClose, "\x03")}, {FailsWith(1002)}},
      {"close with a 123-byte reason", {Final(kClose, CloseBody(1000, std::string(123, '*')))},
       {CloseWith(1000)}},
      {"close with a 124-byte reason: 126 bytes, too long for a control frame",
       {Final(kClose, CloseBody(1000, std::string(124, '*')))}, {FailsWith(1002)}},
      {"close with a UTF-8 reason",
       {Final(kClose, CloseBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83"))},
       {CloseWith(1000)}},
      {"close with a reason that is not UTF-8",
       {Final(kClose, CloseBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                                      "edited"))},
       {FailsWith(1007)}},
      {"close with a truncated UTF-8 reason", {Final(kClose, CloseBody(1000, "ok \xe2\x82"))},
       {FailsWith(1007)}},
  };
  // Codes a peer may send (§7.4.1, §7.4.2, IANA registry): answered with the
  // same code (§5.5.1).
  for (const uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                              1014, 3000, 3999, 4000, 4999}) {
    cases.push_back({absl::StrCat("valid close code ", code),
                     {Final(kClose, CloseBody(code, "bye"))},
                     {CloseWith(code)}});
  }
  // Codes that must never be on the wire (1005, 1006, 1015: local reports;
  // 1004: reserved) or are unassigned or out of range: a protocol error.
  for (const uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
                              65535}) {
    cases.push_back({absl::StrCat("invalid close code ", code), {Final(kClose, CloseBody(code))},
                     {FailsWith(1002)}});
  }
  RunCases(cases);
}

}  // namespace
}  // namespace physics::bridge::testing
