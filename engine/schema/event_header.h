// Reads the few fields a forwarder needs from a state_update event (docs/SPEC.md §3)
// without decoding the rest: symbol, seq and timestamp. The bridge uses it to
// route, conflate and gap-check messages it forwards verbatim, and to serve the
// state object back out of an event.
// Thread-safe: each thread uses its own simdjson parser.
//
//   EventHeader h;
//   if (ParseEventHeader(payload, /*padded=*/false, h).ok()) Route(h.symbol, h.seq);
#ifndef PHYSICS_ENGINE_SCHEMA_EVENT_HEADER_H_
#define PHYSICS_ENGINE_SCHEMA_EVENT_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/schema/timestamp.h"

namespace physics::schema {

// Bytes that must be readable after a JSON text for it to be parsed in place
// (simdjson's SIMDJSON_PADDING).
inline constexpr size_t kJsonPadding = 64;

struct EventHeader {
  std::string symbol;                     // normalised; short symbols stay in SSO
  int64_t seq = 0;
  std::optional<EpochMicros> timestamp;   // absent or unparsable: nullopt
};

// Fills `out` from an event object. `symbol` and `seq` are required (symbol
// valid per NormalizeSymbol, seq an integer); `timestamp` is optional. Other
// fields are not looked at, nor validated.
// padded: true when kJsonPadding bytes after `json` may be read (e.g. the
// text sits in a std::string with that much spare capacity), which avoids a
// copy; false copies `json` into a per-thread buffer (no allocation once grown).
// Errors: kInvalidArgument naming what is missing or malformed.
absl::Status ParseEventHeader(std::string_view json, bool padded, EventHeader& out);

// Writes to `out` (replacing it) the physics:state object carried in an
// event's `data`, i.e. `data` without the leading "alpha" alias that
// AppendEventJson adds, so the result equals the stored state byte for byte.
// A `data` that does not start with "alpha" is returned unchanged.
// Errors: kInvalidArgument when `event_json` has no `data` object.
absl::Status StateJsonFromEvent(std::string_view event_json, std::string& out);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_EVENT_HEADER_H_
