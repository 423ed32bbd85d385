#include "engine/physics/tail_index.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace physics {
namespace {

constexpr size_t kMinTail = 20;  // docs/SPEC.md §5.6: fewer non-zero returns -> WAIT
constexpr double kMaxAlpha = 10.0;

// Sum of (v - floor) over a contiguous run. Each term is >= 0 and exactly 0
// when v == floor, so h is exactly 0 when the top k all tie with x_(k+1),
// as numpy's ln(x_i / x_(k+1)) is.
double SumAbove(const double* values, size_t count, double floor) {
  if (count == 0) return 0.0;
  return (Eigen::Map<const Eigen::ArrayXd>(values, static_cast<Eigen::Index>(count)) -
          floor)
      .sum();
}

}  // namespace

TailIndex HillTailIndex(std::span<const double> sorted,
                        std::span<const double> log_abs) {
  const size_t n = sorted.size();
  // Negative returns [0, neg) have |r| descending in i; positive ones
  // [n - pos, n) have |r| descending from the back.
  const size_t neg = static_cast<size_t>(
      std::lower_bound(sorted.begin(), sorted.end(), 0.0) - sorted.begin());
  const size_t pos = static_cast<size_t>(
      sorted.end() - std::upper_bound(sorted.begin(), sorted.end(), 0.0));
  TailIndex result;
  result.tail_count = neg + pos;
  if (result.tail_count < kMinTail) return result;

  const size_t k = static_cast<size_t>(std::floor(0.1 * static_cast<double>(result.tail_count)));
  auto from_neg = [&](size_t i) { return -sorted[i]; };
  auto from_pos = [&](size_t j) { return sorted[n - 1 - j]; };
  // The top k is the a largest negatives plus the k - a largest positives;
  // find a by bisection (k-th element of two sorted sequences).
  size_t lo = k > pos ? k - pos : 0;
  size_t hi = std::min(k, neg);
  while (lo < hi) {
    const size_t a = lo + (hi - lo) / 2;
    if (from_neg(a) > from_pos(k - a - 1)) {
      lo = a + 1;  // the next negative beats the last positive taken
    } else {
      hi = a;
    }
  }
  const size_t a = lo;
  const size_t b = k - a;
  // x_(k+1): the larger of the next candidates on either side.
  const bool next_is_neg = a < neg && (b >= pos || from_neg(a) >= from_pos(b));
  const double log_threshold = next_is_neg ? log_abs[a] : log_abs[n - 1 - b];
  const double sum = SumAbove(log_abs.data(), a, log_threshold) +
                     SumAbove(log_abs.data() + (n - b), b, log_threshold);
  const double h = sum / static_cast<double>(k);
  result.alpha = h == 0 ? kMaxAlpha : std::min(1.0 / h, kMaxAlpha);
  return result;
}

}  // namespace physics
