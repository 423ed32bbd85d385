// A market tick as it arrives from any feed (docs/SPEC.md §4), and the one validation
// path every feed uses before a tick may touch a symbol's window.
// Pure functions; thread-safe.
#ifndef PHYSICS_ENGINE_SCHEMA_TICK_H_
#define PHYSICS_ENGINE_SCHEMA_TICK_H_

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "engine/schema/timestamp.h"

namespace physics::schema {

struct Tick {
  std::string symbol;          // normalised by ValidateTick
  double price = 0;            // > 0, finite
  double size = 0;             // >= 0, finite (traded volume)
  double trades = 1;           // >= 0 integer ("updates" is an alias upstream)
  double bid = NAN;            // NaN when absent
  double ask = NAN;            // NaN when absent
  EpochMicros timestamp = 0;   // event time
};

// Resets every field to what a parser starts from before reading a tick's
// fields: no symbol, price NaN (so a missing price is caught), size 0, one
// trade, no bid or ask, `timestamp` (the arrival time, or 0 for "required").
// Keeps the symbol's capacity, so a reused Tick does not allocate.
inline void ResetTick(Tick& tick, EpochMicros timestamp) {
  tick.symbol.clear();
  tick.price = NAN;
  tick.size = 0;
  tick.trades = 1;
  tick.bid = NAN;
  tick.ask = NAN;
  tick.timestamp = timestamp;
}

// Normalises tick.symbol in place and checks every field. Returns
// kInvalidArgument with a one-line reason ("price -1: must be > 0 and finite")
// when the tick must be rejected; the caller logs, counts and drops it.
absl::Status ValidateTick(Tick& tick);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_TICK_H_
