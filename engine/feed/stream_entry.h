// Redis stream entries as the stream feed reads them (docs/SPEC.md §2, §4): entry ids
// ("1766318400123-0") and the tick fields of an entry (symbol, price, size,
// trades|updates, bid, ask, timestamp, all as strings).
// Pure values and functions; thread-safe.
//
//   TickFieldReader reader(tick);                 // resets tick to the defaults
//   for (each field, value) if (!(s = reader.Read(field, value)).ok()) reject(s);
//   s = reader.Finish(id);                         // no timestamp: the id's time
#ifndef PHYSICS_ENGINE_FEED_STREAM_ENTRY_H_
#define PHYSICS_ENGINE_FEED_STREAM_ENTRY_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "engine/schema/tick.h"

namespace physics::feed {

// A stream entry id: milliseconds and a sequence number, ordered as Redis
// orders them.
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const StreamId& id) {
    return H::combine(std::move(h), id.ms, id.seq);
  }

  // "ms-seq" (a bare "ms" means seq 0); nullopt for anything else.
  static std::optional<StreamId> Parse(std::string_view text);
  // Appends "ms-seq"; no allocation once `out` has room.
  void AppendTo(std::string& out) const;
  std::string ToString() const;
  // The id just before this one (0-0 stays 0-0): an inclusive bound for "every
  // entry older than this".
  StreamId Previous() const {
    if (seq > 0) return {ms, seq - 1};
    return ms > 0 ? StreamId{ms - 1, UINT64_MAX} : StreamId{};
  }
};

// Longest "ms-seq" text: two 20-digit numbers and the dash.
inline constexpr size_t kMaxStreamIdLength = 41;

// Reads one entry's fields into a tick. Field names are docs/SPEC.md §4's; unknown
// fields are ignored; an empty value means the field is absent (size 0,
// trades 1, no quote). Values are not range-checked: schema::ValidateTick
// does that, so every feed rejects the same ticks with the same reasons.
class TickFieldReader {
 public:
  // Resets every field of `tick` to the SPEC defaults.
  explicit TickFieldReader(schema::Tick& tick);

  // kInvalidArgument naming the field when a number or timestamp is malformed.
  absl::Status Read(std::string_view name, std::string_view value);
  // Checks that symbol and price were given. An entry without a timestamp
  // gets its id's time (milliseconds), so a replay of the stream buckets it
  // exactly as the first reading did.
  absl::Status Finish(StreamId id);

 private:
  schema::Tick& tick_;
  bool has_symbol_ = false;
  bool has_price_ = false;
  bool has_timestamp_ = false;
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_STREAM_ENTRY_H_
