// Hill estimator of the tail index of a window's log returns (docs/SPEC.md §5.6),
// read straight off the window's sorted returns.
// Pure function: thread-safe.
#ifndef PHYSICS_ENGINE_PHYSICS_TAIL_INDEX_H_
#define PHYSICS_ENGINE_PHYSICS_TAIL_INDEX_H_

#include <cstddef>
#include <span>

namespace physics {

struct TailIndex {
  size_t tail_count = 0;  // m: how many |r| are > 0
  double alpha = 0;       // 0 when m < 20, else min(1/h, 10), 10 when h == 0
};

// `sorted` ascending. Only the k+1 largest |r| are read: O(k + log n) with
// one log call per 8 of the top k (the window keeps no ln|r|: a sorted copy
// of them would cost a third more memory traffic per update than the calls).
TailIndex HillTailIndex(std::span<const double> sorted);

}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_TAIL_INDEX_H_
