// WebSocket framing (RFC 6455) as the bridge needs it: server frames are
// unmasked, so a frame's bytes can be built once and sent to every client;
// client frames are masked and small, and are decoded here in place, with the
// checks RFC 6455 asks of a receiver (close codes, UTF-8 text).
// Pure functions and value types; thread-safe (a Utf8Validator object is not
// shared).
//
//   std::string frame;
//   AppendFrameHeader(Opcode::kText, payload.size(), frame);
//   frame.append(payload);
//   ...
//   DecodedFrame f;
//   DecodeStatus st = DecodeClientFrame(buf, len, max_payload, f);
#ifndef PHYSICS_BRIDGE_WS_CODEC_H_
#define PHYSICS_BRIDGE_WS_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace physics::bridge {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used by the bridge (RFC 6455 §7.4.1).
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseInvalidPayload = 1007;  // text or close reason not UTF-8
inline constexpr uint16_t kClosePolicyViolation = 1008;
inline constexpr uint16_t kCloseTooBig = 1009;

// Control frames carry at most 125 payload bytes.
inline constexpr size_t kMaxControlPayload = 125;

// 2, 4 or 10: the size of an unmasked frame header for `payload_size`.
size_t FrameHeaderSize(size_t payload_size);

// Appends a final (FIN), unmasked frame header.
void AppendFrameHeader(Opcode opcode, size_t payload_size, std::string& out);

// A complete close frame: code, then `reason` cut to fit 123 bytes (at a
// UTF-8 character boundary).
std::string MakeCloseFrame(uint16_t code, std::string_view reason);

enum class DecodeStatus {
  kFrame,       // one frame decoded; `consumed` bytes may be dropped
  kIncomplete,  // need more bytes (the header may already show it is too big: see kTooBig)
  kTooBig,      // payload larger than the limit: close with 1009
  kProtocol,    // unmasked, reserved bits, bad opcode, bad control frame: close with 1002
};

struct DecodedFrame {
  Opcode opcode = Opcode::kText;
  bool fin = true;
  std::string_view payload;  // unmasked, points into the caller's buffer
  size_t consumed = 0;       // header + payload bytes
};

// Decodes the first client frame in data[0, size): checks the header (mask
// bit set, no RSV bits, known opcode, control frames final and <= 125 bytes),
// and when the whole frame is present unmasks its payload in place.
// `max_payload` bounds data frames; kTooBig is reported as soon as the header
// is readable, before the payload arrives.
DecodeStatus DecodeClientFrame(char* data, size_t size, size_t max_payload, DecodedFrame& out);

// Whether a peer may send `code` in a close frame (RFC 6455 §7.4.1, §7.4.2 and
// the IANA registry): 1000-1003 and 1007-1014 (assigned) and 3000-4999
// (libraries, applications). Never 0-999, 1004 (reserved), 1005, 1006 and
// 1015 (local reports, never on the wire), unassigned 1016-2999, or >= 5000.
bool IsValidCloseCode(uint16_t code);

// The close frame to send back for a client's close frame with `payload`.
struct CloseAnswer {
  uint16_t code = kCloseNormal;
  std::string_view reason;  // static text; empty when the client's frame was valid
  bool valid = true;        // false: the client's frame broke RFC 6455
};
// Empty payload: 1000. A valid code with a UTF-8 reason: that code, echoed
// (RFC 6455 §5.5.1). A 1-byte payload or a code IsValidCloseCode refuses:
// 1002. A reason that is not UTF-8: 1007 (§8.1).
CloseAnswer AnswerClientClose(std::string_view payload);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Checks a text message that arrives in fragments as each one arrives, so an
// invalid message fails on the fragment that makes it invalid (RFC 6455 §8.1
// asks to fail "as soon as" that is known). A code point may be split between
// fragments: up to 3 bytes of an unfinished one are carried over.
class Utf8Validator {
 public:
  // Starts a new message.
  void Reset() { pending_size_ = 0; }
  // false when the bytes fed since Reset() followed by `bytes` cannot be the
  // start of valid UTF-8; the validator is then spent until Reset().
  [[nodiscard]] bool Feed(std::string_view bytes);
  // Whether the bytes fed so far end at a code point boundary: a message may
  // end here.
  bool AtBoundary() const { return pending_size_ == 0; }

 private:
  char pending_[4] = {};  // the unfinished code point at the end of the input
  size_t pending_size_ = 0;
};

// For tests and clients: appends a masked client frame with the given key.
void AppendMaskedFrame(Opcode opcode, bool fin, std::string_view payload, uint32_t mask_key,
                       std::string& out);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_WS_CODEC_H_
