#include "engine/physics/vector.h"

#include <cassert>
#include <cmath>
#include <numbers>

#include <Eigen/Core>

#include "engine/physics/auto_histogram.h"
#include "engine/physics/tail_index.h"

namespace physics {
namespace {

constexpr double kFlatRange = 1e-9;  // docs/SPEC.md §5.1: CLV = 0 at or below
constexpr double kFlatSigma = 1e-9;  // docs/SPEC.md §5.5: nash_dist = 0 at or below
constexpr size_t kMinEntropyPrices = 6;  // docs/SPEC.md §5.4: n > 5
constexpr size_t kMinNashPrices = 11;    // docs/SPEC.md §5.5: n > 10

// Sum of term(x) over `values` in kLanes interleaved partial sums, so the
// additions form independent chains that the compiler turns into SIMD
// accumulators (a single running sum is bound by the add latency). The order
// differs from numpy's pairwise sum only by rounding, far below 1e-9.
// Always inlined so that each target version of the caller compiles it anew.
template <size_t kLanes, typename Term>
[[gnu::always_inline]] inline double LaneSum(std::span<const double> values, Term term) {
  double lanes[kLanes] = {};
  const size_t n = values.size();
  size_t i = 0;
  for (; n - i >= kLanes; i += kLanes) {
    for (size_t k = 0; k < kLanes; ++k) lanes[k] += term(values[i + k]);
  }
  for (size_t k = 0; i < n; ++i, ++k) lanes[k] += term(values[i]);
  for (size_t width = kLanes / 2; width > 0; width /= 2) {
    for (size_t k = 0; k < width; ++k) lanes[k] += lanes[k + width];
  }
  return lanes[0];
}

// Population standard deviation (np.std) given the mean: the mean squared
// deviation in one pass. A mean off by d adds exactly d^2 to the mean square
// (the cross term sums to zero), so a running sum's few-ulp error is
// negligible where a running variance would drift.
template <size_t kLanes>
[[gnu::always_inline]] inline double StdAround(std::span<const double> values,
                                               double mean) {
  const double squares = LaneSum<kLanes>(values, [mean](double x) {
    const double d = x - mean;
    return d * d;
  });
  return std::sqrt(squares / static_cast<double>(values.size()));
}

// The lane count that fills the vector registers without spilling: 8 lanes
// are four SSE2 accumulators; with AVX2, 16 lanes are four 256-bit ones. On
// x86-64 the version is picked once at load time (GCC multiversioning).
#if defined(__x86_64__)
__attribute__((target("avx2"))) double PopulationStd(std::span<const double> values,
                                                     double mean) {
  return StdAround<16>(values, mean);
}
__attribute__((target("default"))) double PopulationStd(std::span<const double> values,
                                                        double mean) {
  return StdAround<8>(values, mean);
}
#else
double PopulationStd(std::span<const double> values, double mean) {
  return StdAround<8>(values, mean);
}
#endif

// Centre of the first fullest bin of the prices' "auto" histogram.
double PriceMode(std::span<const double> sorted_prices, const AutoBinSizeTerms& terms) {
  const BinLayout layout = AutoBinLayout(sorted_prices, terms);
  int64_t best_bin = 0;
  int64_t best_count = 0;
  ForEachNonEmptyBin(sorted_prices, layout, [&](int64_t bin, int64_t count) {
    if (count > best_count) {  // strict: numpy's argmax keeps the first
      best_count = count;
      best_bin = bin;
    }
  });
  return layout.Centre(best_bin);
}

Regime RegimeOf(size_t tail_count, double alpha) {
  if (tail_count < 20) return Regime::kWait;
  if (alpha > 2) return Regime::kGaussian;
  if (alpha > 1) return Regime::kLevy;
  return Regime::kCritical;
}

}  // namespace

std::string_view RegimeName(Regime r) {
  switch (r) {
    case Regime::kWait:
      return "WAIT";
    case Regime::kGaussian:
      return "Gaussian";
    case Regime::kLevy:
      return "Levy";
    case Regime::kCritical:
      return "Critical";
  }
  return "WAIT";
}

Calculator::Calculator(size_t max_window)
    : max_window_(max_window),
      log_(max_window + 1),
      c_log_c_(max_window + 1),
      bin_terms_(max_window + 1) {
  log_[0] = 0.0;  // never read: empty bins are not visited
  c_log_c_[0] = 0.0;
  for (size_t c = 1; c <= max_window; ++c) {
    log_[c] = std::log(static_cast<double>(c));
    c_log_c_[c] = static_cast<double>(c) * log_[c];
    bin_terms_[c] = AutoBinSizeTermsOf(c);
  }
}

double Calculator::Entropy(std::span<const double> sorted_returns) const {
  const BinLayout layout = AutoBinLayout(sorted_returns, bin_terms_[sorted_returns.size()]);
  int64_t non_empty = 0;
  double sum_c_log_c = 0.0;
  ForEachNonEmptyBin(sorted_returns, layout, [&](int64_t, int64_t count) {
    ++non_empty;
    sum_c_log_c += c_log_c_[static_cast<size_t>(count)];
  });
  if (non_empty <= 1) return 0.0;  // exactly 0, as scipy gives
  // -sum (c/N) log2(c/N) == (ln N - sum(c ln c) / N) / ln 2
  const size_t total = sorted_returns.size();
  return (log_[total] - sum_c_log_c / static_cast<double>(total)) /
         std::numbers::ln2;
}

PhysicsVector Calculator::Compute(const Window& w) const {
  assert(w.size() >= 1 && w.capacity() <= max_window_);
  const size_t n = w.size();
  const Observation& now = w.latest();
  const double p = now.price;
  const std::span<const double> prices = w.sorted_prices();
  const double high = prices.back();
  const double low = prices.front();

  PhysicsVector v;
  const double clv = high - low > kFlatRange ? ((p - low) - (high - p)) / (high - low) : 0.0;
  v.mass = now.volume * clv;
  // The latest stored return is ln(p / p_(n-2)), computed once by Push.
  if (n >= 2) v.momentum = v.mass * w.log_return(w.returns_size() - 1);
  v.friction = now.volume > 0 ? now.trades / now.volume : 0.0;
  if (n >= kMinEntropyPrices) v.entropy = Entropy(w.sorted_returns());
  if (n >= kMinNashPrices) {
    const double mean = w.price_sum() / static_cast<double>(n);
    const double sigma = PopulationStd(prices, mean);
    if (sigma > kFlatSigma) v.nash_dist = (p - PriceMode(prices, bin_terms_[n])) / sigma;
  }
  const TailIndex tail = HillTailIndex(w.sorted_returns(), w.negative_returns(), w.positive_returns());
  v.alpha = tail.alpha;
  v.regime = RegimeOf(tail.tail_count, tail.alpha);
  return v;
}

}  // namespace physics
