// A realistic state (values taken from a simulator run) for the benchmarks
// that need a state-sized payload. Header-only; thread-safe.
#ifndef PHYSICS_BENCH_SAMPLE_STATE_H_
#define PHYSICS_BENCH_SAMPLE_STATE_H_

#include "engine/schema/state_message.h"

namespace physics::bench {

inline schema::StateFields SampleState() {
  schema::StateFields s;
  s.mass = 390.448291551535;
  s.momentum = -0.45200927649073974;
  s.friction = 0.002;
  s.entropy = 3.7987001248166026;
  s.nash_dist = 1.9062982980627432;
  s.regime = "Gaussian";
  s.alpha = 4.390606600595609;
  s.price = 382.77915809074005;
  s.seq = 555;
  s.timestamp = 1766318400LL * 1'000'000 + 124950;  // 2025-12-21T12:00:00.124950Z
  return s;
}

}  // namespace physics::bench

#endif  // PHYSICS_BENCH_SAMPLE_STATE_H_
