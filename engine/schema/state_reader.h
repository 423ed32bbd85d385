// Reads the physics state back for the operator tools (physics-status,
// physics-top): the
// physics:state:{SYM} JSON object and the state_update event (docs/SPEC.md §3) into
// StateFields. The writers live in engine/schema; this is the reader
// side, tolerant of extra fields so that a newer engine does not break it.
// Thread-safe: each thread uses its own simdjson parser.
#ifndef PHYSICS_ENGINE_SCHEMA_STATE_READER_H_
#define PHYSICS_ENGINE_SCHEMA_STATE_READER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/schema/state_message.h"

namespace physics::schema {

// A state_update event: the symbol it is about and its `data`.
struct StateEvent {
  std::string symbol;
  StateFields state;
};

// Parses a physics:state object. Every field of docs/SPEC.md §3 is required; `regime`
// must be WAIT, Gaussian, Levy or Critical (the returned view points at a
// static string, never into `json`). kInvalidArgument naming the first
// missing or malformed field.
absl::StatusOr<StateFields> ParseStateJson(std::string_view json);

// Parses a state_update event: `symbol` (normalised as the engine writes it)
// and its `data` object as above. kInvalidArgument otherwise.
absl::StatusOr<StateEvent> ParseStateEvent(std::string_view json);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_STATE_READER_H_
