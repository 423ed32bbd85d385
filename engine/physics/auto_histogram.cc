#include "engine/physics/auto_histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace physics {
namespace {

// Beyond this numpy cannot allocate the bins anyway; saturating keeps every
// double -> int64 conversion defined.
constexpr double kMaxBins = 4611686018427387904.0;  // 2^62
constexpr double kExactIntegers = 4503599627370496.0;  // 2^52
constexpr double kEpsilon = 2.220446049250313e-16;     // 2^-52

// The first index in [lo, n) where the monotone predicate holds (n when
// none), searching outward from `hint` with doubling steps before bisecting:
// a guess off by d costs O(log d) probes.
template <typename Pred>
size_t GallopFrom(size_t lo, size_t n, size_t hint, Pred pred) {
  hint = std::clamp(hint, lo, n);
  size_t a;  // the answer is in [a, b]
  size_t b;
  size_t step = 1;
  if (hint == n || pred(hint)) {  // the answer is at or before hint
    b = hint;
    a = lo;
    while (b - lo >= step) {
      const size_t probe = b - step;
      if (!pred(probe)) {
        a = probe + 1;
        break;
      }
      b = probe;
      step <<= 1;
    }
  } else {
    a = hint + 1;
    b = a;
    while (b < n && !pred(b)) {
      a = b + 1;
      b = a + step;
      step <<= 1;
    }
    b = std::min(b, n);
  }
  while (a < b) {
    const size_t mid = a + (b - a) / 2;
    if (pred(mid)) {
      b = mid;
    } else {
      a = mid + 1;
    }
  }
  return a;
}

}  // namespace

double SortedQuantile(std::span<const double> sorted, double q) {
  assert(!sorted.empty());
  const size_t n = sorted.size();
  const double virtual_index = static_cast<double>(n - 1) * q;
  if (virtual_index >= static_cast<double>(n - 1)) return sorted[n - 1];
  const double previous = std::floor(virtual_index);
  const size_t i = static_cast<size_t>(previous);
  const double gamma = virtual_index - previous;
  const double a = sorted[i];
  const double b = sorted[i + 1];
  const double diff = b - a;
  // numpy's _lerp: interpolate from the nearer end.
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

AutoBinSizeTerms AutoBinSizeTermsOf(size_t n) {
  const double size = static_cast<double>(n);
  return {.inverse_cube_root = std::pow(size, -1.0 / 3.0), .sturges_bins = std::log2(size) + 1.0};
}

BinLayout AutoBinLayout(std::span<const double> sorted) {
  return AutoBinLayout(sorted, AutoBinSizeTermsOf(sorted.size()));
}

BinLayout AutoBinLayout(std::span<const double> sorted, const AutoBinSizeTerms& terms) {
  assert(!sorted.empty());
  const double lowest = sorted.front();
  const double highest = sorted.back();
  BinLayout layout;
  layout.first = lowest;
  layout.last = highest;
  if (layout.first == layout.last) {
    layout.first -= 0.5;
    layout.last += 0.5;
  }
  const double iqr = SortedQuantile(sorted, 0.75) - SortedQuantile(sorted, 0.25);
  const double fd = 2.0 * iqr * terms.inverse_cube_root;
  const double sturges = (highest - lowest) / terms.sturges_bins;
  const double width = fd != 0 ? std::min(fd, sturges) : sturges;
  const double delta = layout.last - layout.first;
  if (width != 0) {
    const double bins = std::ceil(delta / width);
    layout.nbins = bins < kMaxBins ? static_cast<int64_t>(bins)
                                   : static_cast<int64_t>(kMaxBins);
  }
  layout.step = delta / static_cast<double>(layout.nbins);
  layout.norm = static_cast<double>(layout.nbins) / delta;
  // Error of (x - first) * norm is <= 3 ulp of nbins; error of an edge is
  // <= 3 ulp of max(|first|, |last|) + delta, both in bin units below. While
  // their sum stays under one bin, the raw index is within one of the edge
  // bin and numpy's +-1 correction lands exactly on it.
  const double magnitude = std::max(std::fabs(layout.first), std::fabs(layout.last));
  const double bins = static_cast<double>(layout.nbins);
  const double error_in_bins = kEpsilon * bins * (6.0 + 3.0 * magnitude / delta);
  layout.bins_follow_edges =
      layout.step != 0 && bins < kExactIntegers && error_in_bins < 0.25;
  return layout;
}

namespace histogram_internal {

BinEnd EndOfBin(std::span<const double> sorted, const BinLayout& layout,
               size_t begin, int64_t bin, size_t hint) {
  const size_t n = sorted.size();
  if (bin >= layout.nbins - 1) return {n, bin};  // BinOf is monotone: the rest
  const double edge = layout.Edge(bin + 1);
  const size_t guess =
      GallopFrom(begin + 1, n, hint, [&](size_t i) { return sorted[i] >= edge; });
  const int64_t next_bin = guess < n ? layout.BinOf(sorted[guess]) : bin;
  // numpy's rounding may have moved a value across the edge. BinOf is
  // monotone, so checking both sides of the guess proves it.
  const bool last_inside = guess - 1 == begin || layout.BinOf(sorted[guess - 1]) == bin;
  if (last_inside && (guess == n || next_bin > bin)) return {guess, next_bin};
  const size_t end =
      GallopFrom(begin + 1, n, guess, [&](size_t i) { return layout.BinOf(sorted[i]) > bin; });
  return {end, end < n ? layout.BinOf(sorted[end]) : bin};
}

}  // namespace histogram_internal
}  // namespace physics
