#include "engine/physics/tail_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace physics {
namespace {

constexpr size_t kMinTail = 20;  // docs/SPEC.md §5.6: fewer non-zero returns -> WAIT
constexpr double kMaxAlpha = 10.0;

// A positive normal double as m * 2^e with m in [1, 2): adds e to
// `exponent` and returns m. Exact.
double SplitExponent(double x, int64_t& exponent) {
  constexpr uint64_t kExponentMask = 0x7ffULL << 52;
  constexpr uint64_t kOne = 0x3ffULL << 52;
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  exponent += static_cast<int64_t>((bits & kExponentMask) >> 52) - 1023;
  return std::bit_cast<double>((bits & ~kExponentMask) | kOne);
}

// Sum of ln(|v| / threshold) over a contiguous run of values with
// |v| >= threshold > 0: numpy's sum of ln(x_i / x_(k+1)) with one log call
// in all instead of one per value. Values are multiplied in chunks of up to
// kChunk, each chunk divided by threshold^m multiplied out in the same order
// (so a chunk of ties gives exactly 1, and as rounding is monotone a
// quotient is never below 1); the quotients' mantissas and exponents are
// accumulated apart, and the sum is ln(mantissas) + exponents * ln 2. Each
// |v| lies in [2^-54, 1455] (the log of a quotient of two positive finite
// doubles, when not 0), so a chunk's product stays within [2^-432, 2^85]: no
// overflow, no subnormal. Rounding adds ~1e-15 per chunk, far below the 1e-9
// the SPEC allows; h is exactly 0 when the top k all tie with x_(k+1).
double SumLogRatios(const double* values, size_t count, double threshold) {
  constexpr size_t kLanes = 4;  // independent multiplication chains
  constexpr size_t kChunk = 8;  // values per lane between normalisations
  double powers[kChunk + 1] = {1.0};  // threshold^m, m in [0, kChunk]
  for (size_t m = 1; m <= kChunk; ++m) powers[m] = powers[m - 1] * threshold;
  double mantissa = 1.0;
  int64_t exponent = 0;
  size_t i = 0;
  while (i < count) {
    const size_t round = std::min(count - i, kLanes * kChunk);
    double products[kLanes] = {1.0, 1.0, 1.0, 1.0};
    size_t k = 0;
    for (; round - k >= kLanes; k += kLanes) {
      for (size_t lane = 0; lane < kLanes; ++lane) products[lane] *= std::fabs(values[i + k + lane]);
    }
    for (size_t lane = 0; k < round; ++k, ++lane) products[lane] *= std::fabs(values[i + k]);
    for (size_t lane = 0; lane < kLanes; ++lane) {
      // This lane multiplied the values lane, lane + kLanes, ... of the round.
      const size_t factors = (round + kLanes - 1 - lane) / kLanes;
      mantissa *= SplitExponent(products[lane] / powers[factors], exponent);
    }
    mantissa = SplitExponent(mantissa, exponent);
    i += round;
  }
  return std::log(mantissa) + static_cast<double>(exponent) * std::numbers::ln2;
}

}  // namespace

TailIndex HillTailIndex(std::span<const double> sorted, size_t neg, size_t pos) {
  const size_t n = sorted.size();
  // Negative returns [0, neg) have |r| descending in i; positive ones
  // [n - pos, n) have |r| descending from the back.
  assert(neg + pos <= n);
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
  const double threshold = next_is_neg ? from_neg(a) : from_pos(b);
  const double sum = SumLogRatios(sorted.data(), a, threshold) +
                     SumLogRatios(sorted.data() + (n - b), b, threshold);
  const double h = sum / static_cast<double>(k);
  result.alpha = h == 0 ? kMaxAlpha : std::min(1.0 / h, kMaxAlpha);
  return result;
}

}  // namespace physics
