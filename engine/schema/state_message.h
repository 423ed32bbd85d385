// The two message shapes other programs rely on (docs/SPEC.md §3): the state object
// stored at physics:state:{SYM} and the state_update event. The engine writes
// them from computed fields; the bridge rebuilds an event from a stored state
// (priming, gap repair) with the same code, so both always agree.
// Pure functions; thread-safe.
#ifndef PHYSICS_ENGINE_SCHEMA_STATE_MESSAGE_H_
#define PHYSICS_ENGINE_SCHEMA_STATE_MESSAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/schema/timestamp.h"

namespace physics::schema {

inline constexpr std::string_view kStateKeyPrefix = "physics:state:";
inline constexpr std::string_view kSnapshotKeyPrefix = "market:snapshot:";
inline constexpr std::string_view kStateUpdateChannel = "state_update";
inline constexpr std::string_view kPhysicsUpdateEvent = "PHYSICS_UPDATE";

// One symbol's published state. `regime` must be one of WAIT, Gaussian, Levy,
// Critical (it is written unescaped).
struct StateFields {
  double mass = 0;
  double momentum = 0;
  double friction = 0;
  double entropy = 0;
  double nash_dist = 0;
  std::string_view regime = "WAIT";
  double alpha = 0;
  double price = 0;
  int64_t seq = 0;
  EpochMicros timestamp = 0;
};

// A piece of text inside a string, by position (stays valid when the string
// reallocates).
struct TextSpan {
  uint32_t offset = 0;
  uint32_t size = 0;
  std::string_view In(std::string_view text) const { return text.substr(offset, size); }
};

// Where AppendStateJson wrote the texts that the event and the snapshot
// repeat byte for byte, so they are formatted once. Offsets into `out`.
struct StateJsonTexts {
  TextSpan alpha;      // the number of "alpha_coefficient"
  TextSpan price;      // the number of "price"
  TextSpan timestamp;  // the ISO 8601 text of "timestamp", without quotes
};

// Appends the physics:state JSON object, fields in SPEC order:
// {"mass":..,"momentum":..,"friction":..,"entropy":..,"nash_dist":..,
//  "regime":"..","alpha_coefficient":..,"price":..,"seq":..,"timestamp":".."}
StateJsonTexts AppendStateJson(const StateFields& state, std::string& out);

// Appends the state_update event around an already-encoded state object:
// {"event":"PHYSICS_UPDATE","symbol":S,"timestamp":T,"seq":N,
//  "data":{"alpha":A,<every field of state_json>}}.
// `timestamp_iso` and `alpha_number` are the exact texts found in the state
// (so the event repeats them byte for byte). REQUIRES: state_json is a JSON
// object with at least one field; symbol is normalised.
void AppendEventJson(std::string_view symbol, std::string_view timestamp_iso, int64_t seq,
                     std::string_view alpha_number, std::string_view state_json,
                     std::string& out);

// Rebuilds the event for `symbol` from a stored physics:state JSON value (as
// read back from Redis). kInvalidArgument when it is not a state object.
absl::Status EventFromStateJson(std::string_view symbol, std::string_view state_json,
                                std::string& out);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_STATE_MESSAGE_H_
