// Symbol rules shared by every program: upper-case, [A-Z0-9._-]{1,32} (docs/SPEC.md §2).
// Pure functions; thread-safe.
#ifndef PHYSICS_ENGINE_SCHEMA_SYMBOL_H_
#define PHYSICS_ENGINE_SCHEMA_SYMBOL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace physics::schema {

inline constexpr size_t kMaxSymbolLength = 32;

// Writes the upper-cased `raw` into `out` (replacing its contents; no allocation
// once `out` has capacity for 32 chars). Returns kInvalidArgument naming the
// symbol when it is empty, longer than 32 chars, or has a character outside
// [A-Za-z0-9._-]; `out` is then unspecified. `raw` may view `out` itself
// (normalising in place).
absl::Status NormalizeSymbol(std::string_view raw, std::string& out);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_SYMBOL_H_
