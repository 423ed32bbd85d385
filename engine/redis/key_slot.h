// Redis Cluster key slots (docs/SPEC.md §9): the slot of a key is CRC16
// (XMODEM: polynomial 0x1021, initial value 0) of the key, or of the first
// non-empty `{...}` inside it (the hash tag), mod 16384 — what `CLUSTER
// KEYSLOT key` answers. Pure functions, thread-safe, no allocation.
//
//   uint16_t s = KeySlot("physics:state:SPY");
//   KeySlot("{user1}.a") == KeySlot("{user1}.b");   // hash tag "user1"
#ifndef PHYSICS_ENGINE_REDIS_KEY_SLOT_H_
#define PHYSICS_ENGINE_REDIS_KEY_SLOT_H_

#include <cstdint>
#include <string_view>

namespace physics::redis {

inline constexpr int kClusterSlots = 16384;

// CRC16-XMODEM of `bytes` (the checksum Redis Cluster hashes keys with).
uint16_t Crc16(std::string_view bytes);

// The part of `key` that is hashed: the text between the first '{' and the
// first '}' after it when that text is non-empty, else the whole key.
std::string_view HashTag(std::string_view key);

// Crc16(HashTag(key)) mod 16384.
inline uint16_t KeySlot(std::string_view key) {
  return static_cast<uint16_t>(Crc16(HashTag(key)) & (kClusterSlots - 1));
}

// The smallest n = 0, 1, 2, ... whose decimal text hashes to `slot`: a key
// containing "{n}" lives in that slot (e.g. a key to place on the master
// serving it). The table is computed once, on first use (thread-safe).
uint32_t SlotTag(uint16_t slot);

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_KEY_SLOT_H_
