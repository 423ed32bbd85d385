// Stored states and state_update events as the engine writes them
// (docs/SPEC.md §2, §3), for tests that feed readers (physics-top, a bridge)
// without running an engine. Every field but mass and seq is fixed.
// Thread-safe (pure functions).
#ifndef PHYSICS_TESTS_SUPPORT_STATE_JSON_H_
#define PHYSICS_TESTS_SUPPORT_STATE_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace physics::testing {

// A physics:state:{SYM} value.
std::string StateJson(double mass, int64_t seq);
// A state_update message for `symbol` carrying StateJson(mass, seq).
std::string StateEventJson(std::string_view symbol, double mass, int64_t seq);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_STATE_JSON_H_
