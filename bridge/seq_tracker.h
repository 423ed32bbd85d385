// Per-symbol record of the last state the bridge forwarded (seq and event
// time), deciding for each new one whether it is the next, follows a gap
// (pub/sub lost some: repair from physics:state:{SYM}), restarts the count
// (engine restarted), or is stale (already sent, e.g. by a repair) — docs/SPEC.md §6.
// Not thread-safe: owned by the subscriber thread.
#ifndef PHYSICS_BRIDGE_SEQ_TRACKER_H_
#define PHYSICS_BRIDGE_SEQ_TRACKER_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "engine/schema/timestamp.h"

namespace physics::bridge {

class SeqTracker {
 public:
  enum class Verdict {
    kFirst,    // symbol not seen before
    kNext,     // seq == last + 1
    kGap,      // seq > last + 1: some were lost
    kRestart,  // seq <= last but newer (seq 1, or a later timestamp): the engine restarted
    kStale,    // seq <= last and not newer: already forwarded
  };

  // Judges a state about to be forwarded and, unless kStale, records it as
  // the last one sent.
  Verdict Observe(std::string_view symbol, int64_t seq, std::optional<schema::EpochMicros> time);
  // The last recorded seq, or nullopt.
  std::optional<int64_t> Last(std::string_view symbol) const;

  static bool Forwards(Verdict v) { return v != Verdict::kStale; }

 private:
  struct Last {
    int64_t seq;
    std::optional<schema::EpochMicros> time;
  };
  absl::flat_hash_map<std::string, struct Last> last_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_SEQ_TRACKER_H_
