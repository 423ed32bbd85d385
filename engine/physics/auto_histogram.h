// numpy 1.24's np.histogram(x, bins="auto") computed on already-sorted data
// without materialising the bins: the layout is O(1) from order statistics
// and the non-empty bins are found by walking the sorted values run by run,
// so a histogram with 10^12 mostly-empty bins costs no memory.
// Pure functions: thread-safe.
#ifndef PHYSICS_ENGINE_PHYSICS_AUTO_HISTOGRAM_H_
#define PHYSICS_ENGINE_PHYSICS_AUTO_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace physics {

// The equal-width bins numpy's "auto" rule chooses. Every formula follows
// numpy's operation order so edges and bin indices are bit-identical to it.
struct BinLayout {
  double first = 0;   // left edge of bin 0
  double last = 0;    // right edge of the last bin
  double step = 0;    // (last - first) / nbins, numpy linspace's step
  double norm = 0;    // nbins / (last - first), numpy histogram's scale
  int64_t nbins = 1;
  // True when rounding provably cannot move a value more than one bin from
  // its edge-defined bin, so numpy's correction makes BinOf(x) exactly "the
  // last bin whose left edge is <= x" and runs end at edges.
  bool bins_follow_edges = false;

  // Left edge of bin i, i in [0, nbins]; Edge(nbins) == last exactly.
  double Edge(int64_t i) const;
  // Centre of bin i as numpy users compute it: (edges[i] + edges[i+1]) / 2.
  double Centre(int64_t i) const { return (Edge(i) + Edge(i + 1)) / 2; }
  // The bin numpy puts x in (x within [first, last]); monotone in x.
  int64_t BinOf(double x) const;
};

// numpy's linear-interpolation percentile (method="linear") of sorted data at
// quantile q in [0, 1], including numpy's _lerp rounding. REQUIRES: non-empty.
double SortedQuantile(std::span<const double> sorted, double q);

// The two factors of the "auto" rule that depend only on the sample size n:
// n^(-1/3) (Freedman-Diaconis) and log2(n) + 1 (Sturges). A caller laying out
// many histograms of few sizes computes them once per size (AutoBinSizeTerms
// is exactly what AutoBinLayout would compute).
struct AutoBinSizeTerms {
  double inverse_cube_root = 0;
  double sturges_bins = 0;
};
AutoBinSizeTerms AutoBinSizeTermsOf(size_t n);

// The "auto" layout (min of Freedman-Diaconis and Sturges widths) for
// `sorted`, ascending and non-empty. When numpy would ask for more bins than
// fit in an int64 (it would fail to allocate them), nbins saturates.
BinLayout AutoBinLayout(std::span<const double> sorted);
// The same with the size terms given. REQUIRES: terms ==
// AutoBinSizeTermsOf(sorted.size()).
BinLayout AutoBinLayout(std::span<const double> sorted, const AutoBinSizeTerms& terms);

// Calls visit(bin, count) for every non-empty bin of `layout` over `sorted`,
// in increasing bin order; counts sum to sorted.size(). Cost is
// O(non-empty bins + size / 64) in the common case (layout.bins_follow_edges)
// and O(non-empty bins * log(values per bin)) otherwise, independent of nbins.
template <typename Visitor>
void ForEachNonEmptyBin(std::span<const double> sorted, const BinLayout& layout,
                        Visitor&& visit);

// ---------------------------------------------------------------------------
// Implementation details.

inline double BinLayout::Edge(int64_t i) const {
  if (i >= nbins) return last;
  // numpy.linspace: arange * step + start, or (arange / div) * delta + start
  // when the step underflows to zero.
  if (step == 0) [[unlikely]] {
    return (static_cast<double>(i) / static_cast<double>(nbins)) * (last - first) +
           first;
  }
  return static_cast<double>(i) * step + first;
}

inline int64_t BinLayout::BinOf(double x) const {
  const double scaled = (x - first) * norm;
  int64_t bin = scaled < static_cast<double>(nbins) ? static_cast<int64_t>(scaled)
                                                   : nbins - 1;
  // numpy's correction for the rounding of `scaled` against the edges.
  if (x < Edge(bin)) --bin;
  if (bin != nbins - 1 && x >= Edge(bin + 1)) ++bin;
  return bin < 0 ? 0 : bin > nbins - 1 ? nbins - 1 : bin;
}

namespace histogram_internal {
struct BinEnd {
  size_t index;      // first index after `begin` in a later bin; size when none
  int64_t next_bin;  // BinOf(sorted[index]) when index < size
};
// Where the run of values in `bin`, which starts at `begin`, ends; `hint`
// is a guess at the answer (neighbouring bins hold similar counts). Verifies
// every run end with BinOf, so it is exact for any layout.
BinEnd EndOfBin(std::span<const double> sorted, const BinLayout& layout,
                size_t begin, int64_t bin, size_t hint);

// Where a search for the first value >= an edge ended.
struct EdgePosition {
  size_t index;  // the first index whose value is >= the edge; n when none
  size_t block;  // where the final block began: <= index, and a valid start
                 // for the search for any later edge
};

// The first index in [from, n) whose value is >= edge, given that every
// value before `from` is below it. REQUIRES: sorted[0, n) ascending.
// Strides over whole blocks (predictable for long runs), then counts the
// values below the edge in the final block without branches. The next search
// starts at `block`, not `index`, so consecutive searches depend on each
// other only through the stride arithmetic, never through the count.
inline EdgePosition FindEdge(const double* sorted, size_t n, size_t from, double edge) {
  constexpr size_t kBlock = 8;
  constexpr size_t kLongStride = 64;
  size_t i = from;
  while (n - i >= kLongStride && sorted[i + kLongStride - 1] < edge) i += kLongStride;
  while (n - i >= kBlock && sorted[i + kBlock - 1] < edge) i += kBlock;
  size_t index = i;
  if (n - i >= kBlock) {
    for (size_t k = 0; k < kBlock; ++k) index += sorted[i + k] < edge ? 1 : 0;
  } else {
    while (index < n && sorted[index] < edge) ++index;
  }
  return {index, i};
}

// ForEachNonEmptyBin for layouts whose bins follow their edges: a run ends at
// the first value >= the next edge. A single-value run (the sparse tails) is
// recognised with one compare; the following run is in the very next bin
// whenever its first value is below the edge after, which in the dense
// centre spares the BinOf and keeps the next bin off the loop's dependency
// chain.
template <typename Visitor>
void ForEachRunBetweenEdges(std::span<const double> sorted, const BinLayout& layout,
                            Visitor&& visit) {
  const double* const values = sorted.data();
  const size_t n = sorted.size();
  const int64_t last_bin = layout.nbins - 1;
  size_t begin = 0;
  size_t search_from = 0;  // <= begin: every value before it is in an earlier bin
  int64_t bin = layout.BinOf(values[0]);
  while (bin < last_bin) {
    const double edge = layout.Edge(bin + 1);
    size_t end = begin + 1;
    if (end == n || values[end] >= edge) {
      search_from = end;
    } else {
      const EdgePosition found = FindEdge(values, n, search_from, edge);
      end = found.index;
      search_from = found.block;
    }
    if (end == n) break;
    visit(bin, static_cast<int64_t>(end - begin));
    const double x = values[end];
    bin = x < layout.Edge(bin + 2) ? bin + 1 : layout.BinOf(x);
    begin = end;
  }
  visit(bin, static_cast<int64_t>(n - begin));
}
}  // namespace histogram_internal

template <typename Visitor>
void ForEachNonEmptyBin(std::span<const double> sorted, const BinLayout& layout,
                        Visitor&& visit) {
  if (sorted.empty()) return;
  if (layout.bins_follow_edges) {
    histogram_internal::ForEachRunBetweenEdges(sorted, layout, visit);
    return;
  }
  size_t i = 0;
  int64_t bin = layout.BinOf(sorted[0]);
  size_t previous_count = 1;
  while (i < sorted.size()) {
    const histogram_internal::BinEnd end =
        histogram_internal::EndOfBin(sorted, layout, i, bin, i + previous_count);
    previous_count = end.index - i;
    visit(bin, static_cast<int64_t>(previous_count));
    i = end.index;
    bin = end.next_bin;
  }
}

}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_AUTO_HISTOGRAM_H_
