// The physics vector of one symbol's window (docs/SPEC.md §5): mass, momentum,
// friction, entropy, nash_dist, Hill tail index and regime, equal to numpy on
// the same data to a relative 1e-9. A Calculator is immutable after
// construction and safe to share across threads; Compute allocates nothing.
#ifndef PHYSICS_ENGINE_PHYSICS_VECTOR_H_
#define PHYSICS_ENGINE_PHYSICS_VECTOR_H_

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "engine/physics/auto_histogram.h"
#include "engine/physics/window.h"

namespace physics {

// docs/SPEC.md §5.7. kWait until the window holds 20 non-zero returns.
enum class Regime { kWait, kGaussian, kLevy, kCritical };

// The SPEC's wire names: "WAIT", "Gaussian", "Levy", "Critical".
std::string_view RegimeName(Regime r);

// docs/SPEC.md §5; `alpha` is published as both "alpha_coefficient" and "alpha".
// Every field is finite.
struct PhysicsVector {
  double mass = 0;
  double momentum = 0;
  double friction = 0;
  double entropy = 0;    // bits
  double nash_dist = 0;  // in standard deviations
  double alpha = 0;      // Hill tail index, in [0, 10]
  Regime regime = Regime::kWait;
};

// Computes physics vectors for windows of capacity up to `max_window` using
// read-only tables built once (c*ln(c) for the entropy, the histograms'
// size terms), e.g.
//   const physics::Calculator calc(1000);
//   physics::PhysicsVector v = calc.Compute(window);
class Calculator {
 public:
  explicit Calculator(size_t max_window);

  // REQUIRES: w.size() >= 1 and w.capacity() <= max_window().
  // O(non-empty histogram bins + n) with no allocation and no log calls; the
  // O(n) part is one SIMD pass for the standard deviation (the mean comes
  // from the window's running sum) and strides over long histogram runs.
  PhysicsVector Compute(const Window& w) const;

  size_t max_window() const { return max_window_; }

 private:
  // Shannon entropy in bits of the "auto" histogram of `sorted_returns`.
  double Entropy(std::span<const double> sorted_returns) const;

  size_t max_window_;
  std::vector<double> log_;      // ln(c), c in [0, max_window]
  std::vector<double> c_log_c_;  // c * ln(c), c in [0, max_window]
  // The "auto" histogram's size terms for c values, c in [0, max_window]
  // (a pow and a log2 per histogram otherwise).
  std::vector<AutoBinSizeTerms> bin_terms_;
};

}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_VECTOR_H_
