#include "engine/redis/partition.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/redis/internal/string_view.h"
#include "engine/redis/key_slot.h"

namespace physics::redis {

absl::StatusOr<int> ParsePartitions(std::string_view text) {
  int n = 0;
  if (text.empty() || !std::ranges::all_of(text, absl::ascii_isdigit) || text.size() > 5 ||
      !absl::SimpleAtoi(internal::ToAbsl(text), &n) || n < 1 || n > kMaxPartitions) {
    return absl::InvalidArgumentError(absl::StrCat("bad partition count '", internal::ToAbsl(text),
                                                   "': accepted 1..", kMaxPartitions));
  }
  return n;
}

Partitioning::Partitioning(int partitions) {
  tags_.reserve(partitions);
  slots_.reserve(partitions);
  uint32_t n = 0;
  for (int p = 0; p < partitions; ++p) {
    // Middle half of the p-th share, in quarter-slots to stay in integers.
    const int64_t low4 = (4 * int64_t{p} + 1) * kClusterSlots / partitions;   // 4 * lower bound
    const int64_t high4 = (4 * int64_t{p} + 3) * kClusterSlots / partitions;  // 4 * upper bound
    for (n = 0;; ++n) {
      const std::string tag = std::to_string(n);
      const int64_t slot4 = 4 * int64_t{KeySlot(tag)};
      if (slot4 >= low4 && slot4 < high4) {
        tags_.push_back(tag);
        slots_.push_back(KeySlot(tag));
        break;
      }
    }
  }
}

int Partitioning::Of(std::string_view symbol) const { return OfCrc16(Crc16(symbol)); }

std::string Partitioning::Channel(const Config& cfg, int p) const {
  return cfg.Key(absl::StrCat("state_update:{", tags_[p], "}"));
}

std::string Partitioning::Stream(std::string_view base, int p) const {
  return absl::StrCat(internal::ToAbsl(base), ":{", tags_[p], "}");
}

absl::StatusOr<std::vector<std::vector<int>>> PartitionsByMaster(const Partitioning& parts,
                                                                 const Cluster& cluster, const Config& cfg) {
  std::vector<std::vector<int>> out(cluster.masters());
  for (int p = 0; p < parts.count(); ++p) {
    const int owner = cluster.MasterOf(parts.Slot(p));
    if (owner == ClusterTopology::kNoOwner) {
      return absl::UnavailableError(
          absl::StrCat("Redis Cluster: slot ", parts.Slot(p), " of ", parts.Channel(cfg, p), " has no master"));
    }
    out[owner].push_back(p);
  }
  return out;
}

}  // namespace physics::redis
