#include "bridge/ws_codec.h"

#include <cstring>

namespace physics::bridge {
namespace {

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool IsKnownOpcode(uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

void AppendLength(bool masked, size_t size, std::string& out) {
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (size < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(size)));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<uint64_t>(size) >> shift) & 0xFF));
    }
  }
}

// Length of the longest prefix of `s` (at most `limit` bytes) that does not
// end inside a UTF-8 sequence.
size_t Utf8Prefix(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  size_t n = limit;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

size_t FrameHeaderSize(size_t payload_size) {
  return payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
}

void AppendFrameHeader(Opcode opcode, size_t payload_size, std::string& out) {
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  AppendLength(false, payload_size, out);
}

std::string MakeCloseFrame(uint16_t code, std::string_view reason) {
  reason = reason.substr(0, Utf8Prefix(reason, kMaxControlPayload - 2));
  std::string out;
  out.reserve(4 + reason.size());
  AppendFrameHeader(Opcode::kClose, 2 + reason.size(), out);
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

DecodeStatus DecodeClientFrame(char* data, size_t size, size_t max_payload, DecodedFrame& out) {
  if (size < 2) return DecodeStatus::kIncomplete;
  const auto b0 = static_cast<uint8_t>(data[0]);
  const auto b1 = static_cast<uint8_t>(data[1]);
  const uint8_t opcode = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  // No extension is negotiated, so RSV1-3 must be 0; clients must mask.
  if ((b0 & 0x70) != 0 || !IsKnownOpcode(opcode) || (b1 & 0x80) == 0) {
    return DecodeStatus::kProtocol;
  }
  uint64_t length = b1 & 0x7F;
  size_t header = 2;
  if (IsControl(opcode) && (!fin || length > kMaxControlPayload)) return DecodeStatus::kProtocol;
  if (length == 126) {
    if (size < 4) return DecodeStatus::kIncomplete;
    length = (static_cast<uint64_t>(static_cast<uint8_t>(data[2])) << 8) |
             static_cast<uint8_t>(data[3]);
    header = 4;
  } else if (length == 127) {
    if (size < 10) return DecodeStatus::kIncomplete;
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<uint8_t>(data[i]);
    header = 10;
  }
  if (length > max_payload) return DecodeStatus::kTooBig;
  header += 4;  // masking key
  // Not `size < header + length`: with a large max_payload a 64-bit length
  // would wrap the sum.
  if (size < header || size - header < length) return DecodeStatus::kIncomplete;
  uint8_t key[4];
  std::memcpy(key, data + header - 4, 4);
  char* payload = data + header;
  for (size_t i = 0; i < length; ++i) payload[i] = static_cast<char>(payload[i] ^ key[i & 3]);
  out.opcode = static_cast<Opcode>(opcode);
  out.fin = fin;
  out.payload = std::string_view(payload, static_cast<size_t>(length));
  out.consumed = header + static_cast<size_t>(length);
  return DecodeStatus::kFrame;
}

void AppendMaskedFrame(Opcode opcode, bool fin, std::string_view payload, uint32_t mask_key,
                       std::string& out) {
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  AppendLength(true, payload.size(), out);
  uint8_t key[4] = {static_cast<uint8_t>(mask_key >> 24), static_cast<uint8_t>(mask_key >> 16),
                    static_cast<uint8_t>(mask_key >> 8), static_cast<uint8_t>(mask_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(payload[i] ^ key[i & 3]));
  }
}

}  // namespace physics::bridge
