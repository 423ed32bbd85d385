// Market ticks as JSON text (docs/SPEC.md §4), the form upstream feed handlers publish
// on market.tick.{SYM}:
//   {"symbol":"SPY","price":450.1,"size":100,"trades":2,"bid":450.09,
//    "ask":450.11,"timestamp":1766318400.123456}
// The parser reads untrusted bytes (it is fuzzed) with one reused simdjson
// on-demand parser per thread, and never throws.
// Thread-safe: each thread uses its own parser and buffer.
//
//   schema::Tick tick;                         // reused: no allocation once grown
//   if (ParseTickJson(payload, now_micros, tick).ok()) feed::Deliver(tick, origin, sink);
#ifndef PHYSICS_ENGINE_SCHEMA_TICK_JSON_H_
#define PHYSICS_ENGINE_SCHEMA_TICK_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/schema/tick.h"
#include "engine/schema/timestamp.h"

namespace physics::schema {

// Longest tick JSON accepted: a hostile message cannot grow the per-thread
// buffer without bound, and a real tick is under 300 bytes.
inline constexpr size_t kMaxTickJsonBytes = 64 * 1024;

// Replaces every field of `tick` with the JSON object's:
//   symbol              string, required (normalised later by ValidateTick)
//   price               required
//   size                default 0
//   trades | updates    default 1 (`updates` is the upstream alias)
//   bid, ask            optional; absent or null leave NaN
//   timestamp           epoch seconds (number, or a string) or ISO 8601 UTC
//                       (string); absent or null: `arrival`
// Numbers may also come as numeric strings ("450.1"), as some feed handlers
// send them. Unknown fields are ignored; a repeated field: the last one wins.
// Values are not range-checked here: schema::ValidateTick does that, so every
// feed rejects the same ticks with the same reasons.
// Errors: kInvalidArgument, one line naming the problem ("tick JSON: price
// 'abc' is not a number", "tick JSON: missing price").
absl::Status ParseTickJson(std::string_view json, EpochMicros arrival, Tick& tick);

// Appends `tick` in the form ParseTickJson reads, for publishers and tests.
// Numbers are written exactly (shortest round-trip form); bid/ask are left out
// when NaN; the timestamp is epoch seconds with six decimals.
void AppendTickJson(const Tick& tick, std::string& out);

// Appends `micros` as epoch seconds with six decimals ("1766318400.123456"),
// which ParseTimestamp reads back exactly. REQUIRES: micros >= 0.
void AppendEpochSeconds(EpochMicros micros, std::string& out);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_TICK_JSON_H_
