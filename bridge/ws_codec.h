// WebSocket framing (RFC 6455) as the bridge needs it: server frames are
// unmasked, so a frame's bytes can be built once and sent to every client;
// client frames are masked and small, and are decoded here in place.
// Pure functions and a value type; thread-safe.
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

// For tests and clients: appends a masked client frame with the given key.
void AppendMaskedFrame(Opcode opcode, bool fin, std::string_view payload, uint32_t mask_key,
                       std::string& out);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_WS_CODEC_H_
