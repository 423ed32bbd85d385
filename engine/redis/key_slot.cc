#include "engine/redis/key_slot.h"

#include <array>
#include <charconv>

namespace physics::redis {
namespace {

constexpr std::array<uint16_t, 256> MakeTable() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kTable = MakeTable();

}  // namespace

uint16_t Crc16(std::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<uint16_t>((crc << 8) ^ kTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

std::string_view HashTag(std::string_view key) {
  const size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

uint32_t SlotTag(uint16_t slot) {
  static const std::array<uint32_t, kClusterSlots> kTags = [] {
    std::array<uint32_t, kClusterSlots> tags;
    tags.fill(UINT32_MAX);
    size_t filled = 0;
    char text[16];
    for (uint32_t n = 0; filled < tags.size(); ++n) {  // ~180 000 tries fill all slots
      const auto [end, ec] = std::to_chars(text, text + sizeof(text), n);
      const uint16_t s = KeySlot(std::string_view(text, static_cast<size_t>(end - text)));
      if (tags[s] == UINT32_MAX) {
        tags[s] = n;
        ++filled;
      }
    }
    return tags;
  }();
  return kTags[slot % kClusterSlots];
}

}  // namespace physics::redis
