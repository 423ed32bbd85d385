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

// `sorted` ascending, of which the first `negatives` are < 0 and the last
// `positives` are > 0. Only the k+1 largest |r| are read: O(k + log k) with
// one log call in all (the window keeps no ln|r|: a sorted copy of them
// would cost a third more memory traffic per update than the work here).
TailIndex HillTailIndex(std::span<const double> sorted, size_t negatives, size_t positives);


}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_TAIL_INDEX_H_
