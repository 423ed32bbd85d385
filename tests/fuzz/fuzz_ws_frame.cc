// Fuzzes bridge::DecodeClientFrame on untrusted socket bytes, decoding frame
// after frame as a session does. The first input byte picks max_payload.
// Checks: a decoded frame makes progress and stays inside the buffer
// (0 < consumed <= size, payload inside it); it obeys RFC 6455's rules for
// what it reports (known opcode, control frames final and <= 125 bytes, data
// frames <= max_payload); its prefixes are kIncomplete; re-masking the
// payload with AppendMaskedFrame decodes to the same frame; a data payload
// checked as UTF-8 in three pieces (Utf8Validator) gets IsValidUtf8's verdict;
// and a close payload is answered with a code that may be sent, its own code
// when it is valid.
// Its seeds (corpus/fuzz_ws_frame/*.bin) are binary: one max_payload byte,
// then masked frames as AppendMaskedFrame writes them.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/ws_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

using bridge::DecodeStatus;
using bridge::Opcode;

constexpr size_t kMaxPayloads[] = {0, 1, 125, 126, 65535, 65536, 1 << 20,
                                   std::numeric_limits<size_t>::max()};

bool IsControl(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

// Decodes a private copy: DecodeClientFrame unmasks in place.
DecodeStatus DecodeCopy(std::string_view bytes, size_t max_payload, std::string& copy,
                        bridge::DecodedFrame& out) {
  copy.assign(bytes);
  return bridge::DecodeClientFrame(copy.data(), copy.size(), max_payload, out);
}

void CheckFrame(std::string_view wire, size_t max_payload, const char* base,
                const bridge::DecodedFrame& f) {
  const size_t size = wire.size();
  Check(f.consumed > 0 && f.consumed <= size, "decoded frame: 0 < consumed <= size",
        absl::StrCat("consumed ", f.consumed, " of ", size));
  Check(f.payload.data() >= base && f.payload.data() + f.payload.size() <= base + f.consumed,
        "decoded frame: payload inside the consumed bytes");
  Check(f.consumed >= f.payload.size() + 6, "decoded frame: room for header and mask key");
  const auto op = static_cast<uint8_t>(f.opcode);
  Check(op <= 0x2 || (op >= 0x8 && op <= 0xA), "decoded frame: known opcode");
  if (IsControl(f.opcode)) {
    Check(f.fin && f.payload.size() <= bridge::kMaxControlPayload,
          "decoded control frame: final and <= 125 bytes");
  }
  Check(f.payload.size() <= max_payload, "decoded frame: payload <= max_payload");

  // Every strict prefix of the frame is incomplete (or too big, by its header).
  std::string copy;
  bridge::DecodedFrame g;
  for (const size_t cut : {size_t{0}, size_t{1}, f.consumed / 2, f.consumed - 1}) {
    if (cut >= f.consumed) continue;
    const DecodeStatus st = DecodeCopy(wire.substr(0, cut), max_payload, copy, g);
    Check(st == DecodeStatus::kIncomplete, "a prefix of a frame is incomplete",
          absl::StrCat("prefix ", cut, " of ", f.consumed, " -> ", static_cast<int>(st)));
  }

  // The writer's form of the same frame decodes to the same frame.
  const size_t key_at = f.consumed - f.payload.size() - 4;
  uint32_t key = 0;
  for (size_t i = 0; i < 4; ++i) key = (key << 8) | static_cast<uint8_t>(wire[key_at + i]);
  std::string rewritten;
  bridge::AppendMaskedFrame(f.opcode, f.fin, f.payload, key, rewritten);
  const DecodeStatus st = DecodeCopy(rewritten, max_payload, copy, g);
  Check(st == DecodeStatus::kFrame && g.opcode == f.opcode && g.fin == f.fin &&
            g.payload == f.payload && g.consumed == rewritten.size(),
        "AppendMaskedFrame output decodes to the same frame");
}

void CheckUtf8Pieces(std::string_view payload) {
  const size_t a = payload.size() / 3;
  const size_t b = payload.size() * 2 / 3;
  bridge::Utf8Validator v;
  const bool pieces = v.Feed(payload.substr(0, a)) && v.Feed(payload.substr(a, b - a)) &&
                      v.Feed(payload.substr(b)) && v.AtBoundary();
  Check(pieces == bridge::IsValidUtf8(payload), "Utf8Validator agrees with IsValidUtf8",
        absl::StrCat("pieces ", pieces, ", cut at ", a, " and ", b));
}

void CheckCloseAnswer(std::string_view payload) {
  const bridge::CloseAnswer answer = bridge::AnswerClientClose(payload);
  Check(bridge::IsValidCloseCode(answer.code), "a close is answered with a code that may be sent",
        absl::StrCat("code ", answer.code));
  if (answer.valid && payload.size() >= 2) {
    const auto received = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                 static_cast<uint8_t>(payload[1]));
    Check(answer.code == received, "a valid close code is echoed",
          absl::StrCat("received ", received, ", answered ", answer.code));
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const size_t max_payload = kMaxPayloads[data[0] % std::size(kMaxPayloads)];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    // Decoded in a copy of exactly the remaining size, so ASan sees any
    // overrun and `rest` keeps the masked bytes for the checks.
    std::vector<char> frame_bytes(rest.begin(), rest.end());
    bridge::DecodedFrame f;
    const DecodeStatus st =
        bridge::DecodeClientFrame(frame_bytes.data(), frame_bytes.size(), max_payload, f);
    if (st != DecodeStatus::kFrame) return;
    CheckFrame(rest, max_payload, frame_bytes.data(), f);
    if (f.opcode == Opcode::kClose) {
      CheckCloseAnswer(f.payload);
    } else if (!IsControl(f.opcode)) {
      CheckUtf8Pieces(f.payload);
    }
    rest.remove_prefix(f.consumed);
  }
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  physics::fuzz::FuzzOne(data, size);
  return 0;
}
