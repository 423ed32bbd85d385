// Reads the physics state back out of Redis for the operator tools: the
// physics:state:{SYM} JSON object and the state_update event (SPEC §3) into
// schema::StateFields. The writers live in engine/schema; this is the reader
// side, tolerant of extra fields so that a newer engine does not break it.
// Thread-safe: each thread uses its own simdjson parser.
#ifndef PHYSICS_TOOLS_STATUS_STATE_JSON_H_
#define PHYSICS_TOOLS_STATUS_STATE_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/schema/state_message.h"

namespace physics::ops {

// A state_update event: the symbol it is about and its `data`.
struct StateEvent {
  std::string symbol;
  schema::StateFields state;
};

// Parses a physics:state object. Every field of SPEC §3 is required; `regime`
// must be WAIT, Gaussian, Levy or Critical (the returned view points at a
// static string, never into `json`). kInvalidArgument naming the first
// missing or malformed field.
absl::StatusOr<schema::StateFields> ParseStateJson(std::string_view json);

// Parses a state_update event: `symbol` (normalised as the engine writes it)
// and its `data` object as above. kInvalidArgument otherwise.
absl::StatusOr<StateEvent> ParseStateEvent(std::string_view json);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_STATE_JSON_H_
