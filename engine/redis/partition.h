// Partitions of the symbol space for Redis Cluster mode (docs/SPEC.md §9):
// a symbol's messages go out on its partition's sharded pub/sub channel, and
// with the stream feed its ticks come from its partition's stream, so each
// channel and stream lives in one slot, on one master. P partitions (the
// engine's and bridge's --partitions, default kDefaultPartitions):
//
//   partition(SYM) = CRC16(SYM) mod P          (CRC16-XMODEM of the symbol's
//                                               bytes, as Redis hashes keys)
//   tag(p)         = the smallest n = 0, 1, 2, ... (in decimal) whose slot
//                    CRC16(n) mod 16384 lies in the middle half of the p-th
//                    P-th of the slot space:
//                    [(p + 1/4) * 16384 / P, (p + 3/4) * 16384 / P)
//   channel(p)     = [ns:]state_update:{tag(p)}
//   stream(p)      = [ns:]market:ticks:{tag(p)}   (its DLQ: stream(p) + ":dlq")
//
// The tags spread the partitions evenly over the slot space, so masters that
// split the slots evenly (what `redis-cli --cluster create` does) carry
// partition counts within one of each other. Pure functions; thread-safe.
//
//   Partitioning parts(24);
//   int p = parts.Of("SPY");
//   std::string ch = parts.Channel(cfg, p);     // "state_update:{…}"
#ifndef PHYSICS_ENGINE_REDIS_PARTITION_H_
#define PHYSICS_ENGINE_REDIS_PARTITION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"

namespace physics::redis {

inline constexpr int kDefaultPartitions = 24;
inline constexpr int kMaxPartitions = 1024;

// Validates a --partitions value: 1..kMaxPartitions. Errors: kInvalidArgument.
absl::StatusOr<int> ParsePartitions(std::string_view text);

class Partitioning {
 public:
  // REQUIRES: 1 <= partitions <= kMaxPartitions.
  explicit Partitioning(int partitions = kDefaultPartitions);

  int count() const { return static_cast<int>(tags_.size()); }
  // CRC16(symbol) mod count().
  int Of(std::string_view symbol) const;
  // The same from the symbol's CRC16, when it is already known.
  int OfCrc16(uint16_t symbol_crc16) const { return symbol_crc16 % count(); }
  // tag(p), e.g. "1142". REQUIRES: 0 <= p < count().
  const std::string& Tag(int p) const { return tags_[p]; }
  // The slot of partition p's channel and stream (CRC16(tag) mod 16384).
  uint16_t Slot(int p) const { return slots_[p]; }
  // [ns:]state_update:{tag(p)}
  std::string Channel(const Config& cfg, int p) const;
  // [ns:]market:ticks:{tag(p)}, or `base`:{tag(p)} for --feed stream:KEY
  // (base already namespaced by the caller as it is today).
  std::string Stream(std::string_view base, int p) const;

 private:
  std::vector<std::string> tags_;
  std::vector<uint16_t> slots_;
};

// The partitions whose channel slot each master of `cluster` serves:
// element i lists those of cluster.topology().shards[i], for subscribers
// that SSUBSCRIBE per master. kUnavailable naming the channel when a
// partition's slot has no master.
absl::StatusOr<std::vector<std::vector<int>>> PartitionsByMaster(const Partitioning& parts,
                                                                 const Cluster& cluster, const Config& cfg);

// True when shard I of N owns partition p (p mod N == I).
inline bool ShardOwns(int shard_index, int shard_count, int partition) {
  return partition % shard_count == shard_index;
}

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_PARTITION_H_
