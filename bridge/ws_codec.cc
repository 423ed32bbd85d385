#include "bridge/ws_codec.h"

#include <algorithm>
#include <cstring>

#include "simdjson.h"

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

// The length of the UTF-8 sequence `lead` starts, from its high bits alone; 1
// for a byte that cannot start one (validation refuses it).
size_t SequenceLength(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 1;
}

// Whether `prefix`, shorter than the sequence its first byte starts, can still
// become a valid code point: the lead and second-byte ranges of Unicode's
// well-formed table (no overlong form, surrogate or code point > U+10FFFF).
bool IsValidPartialSequence(std::string_view prefix) {
  const auto lead = static_cast<uint8_t>(prefix[0]);
  if (lead < 0xC2 || lead > 0xF4) return false;
  if (prefix.size() >= 2) {
    const auto second = static_cast<uint8_t>(prefix[1]);
    uint8_t low = 0x80;
    uint8_t high = 0xBF;
    if (lead == 0xE0) low = 0xA0;        // overlong 3-byte form
    if (lead == 0xED) high = 0x9F;       // surrogates U+D800-DFFF
    if (lead == 0xF0) low = 0x90;        // overlong 4-byte form
    if (lead == 0xF4) high = 0x8F;       // above U+10FFFF
    if (second < low || second > high) return false;
  }
  return prefix.size() < 3 || (static_cast<uint8_t>(prefix[2]) & 0xC0) == 0x80;
}

// Where the unfinished code point at the end of `bytes` starts; bytes.size()
// when they end at a boundary (or in bytes that validation refuses anyway).
size_t UnfinishedTail(std::string_view bytes) {
  const size_t n = bytes.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto b = static_cast<uint8_t>(bytes[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // a continuation byte
    return SequenceLength(b) > back ? n - back : n;
  }
  return n;
}

}  // namespace

bool IsValidCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

CloseAnswer AnswerClientClose(std::string_view payload) {
  if (payload.empty()) return {};
  if (payload.size() == 1) {
    return {kCloseProtocolError, "protocol error: a close payload of 1 byte", false};
  }
  const auto code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                          static_cast<uint8_t>(payload[1]));
  if (!IsValidCloseCode(code)) {
    return {kCloseProtocolError, "protocol error: invalid close code", false};
  }
  if (!IsValidUtf8(payload.substr(2))) {
    return {kCloseInvalidPayload, "close reason is not UTF-8", false};
  }
  return {code, "", true};
}

bool IsValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

bool Utf8Validator::Feed(std::string_view bytes) {
  if (pending_size_ > 0) {
    const size_t need = SequenceLength(static_cast<uint8_t>(pending_[0])) - pending_size_;
    const size_t take = std::min(need, bytes.size());
    if (take > 0) std::memcpy(pending_ + pending_size_, bytes.data(), take);
    pending_size_ += take;
    bytes.remove_prefix(take);
    if (take < need) return IsValidPartialSequence(std::string_view(pending_, pending_size_));
    if (!simdjson::validate_utf8(pending_, pending_size_)) return false;
    pending_size_ = 0;
  }
  const size_t tail = UnfinishedTail(bytes);
  if (!simdjson::validate_utf8(bytes.data(), tail)) return false;
  const std::string_view unfinished = bytes.substr(tail);
  pending_size_ = unfinished.size();
  if (unfinished.empty()) return true;
  std::memcpy(pending_, unfinished.data(), unfinished.size());
  return IsValidPartialSequence(unfinished);
}

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
