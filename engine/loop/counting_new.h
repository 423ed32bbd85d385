// Test support for physics_loop_test: the binary's operator new family is
// replaced by one that counts, so a test can prove a steady-state loop tick
// allocates nothing. Thread-safe (an atomic counter).
#ifndef PHYSICS_ENGINE_LOOP_COUNTING_NEW_H_
#define PHYSICS_ENGINE_LOOP_COUNTING_NEW_H_

#include <cstdint>

namespace physics::loop::testing {

// Heap allocations through operator new since the program started.
int64_t AllocationsSoFar();

}  // namespace physics::loop::testing

#endif  // PHYSICS_ENGINE_LOOP_COUNTING_NEW_H_
