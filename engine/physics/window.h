// One symbol's sliding window of observations (docs/SPEC.md §5), kept together with
// incrementally sorted copies of its prices and log returns so that the
// physics vector needs no sort and no allocation per update.
// Not thread-safe: a Window is owned by whichever thread pushes into it.
#ifndef PHYSICS_ENGINE_PHYSICS_WINDOW_H_
#define PHYSICS_ENGINE_PHYSICS_WINDOW_H_

#include <cstddef>
#include <memory_resource>
#include <span>
#include <vector>

namespace physics {

// One folded tick. REQUIRES (validated upstream): price > 0 and finite,
// volume >= 0, trades >= 0.
struct Observation {
  double price;
  double volume;
  double trades;
};

// The last `capacity` observations of one symbol. Besides the price ring it
// keeps the n-1 log returns r_i = ln(p_i / p_(i-1)) in a ring, and ascending
// sorted copies of the prices and the returns, updated by one memmove per
// Push between the evicted and the inserted positions. Only the latest volume and trade count are kept: the
// vector uses no older ones.
//
// Example:
//   physics::Window w(1000);
//   w.Push({.price = 450.32, .volume = 1200, .trades = 14});
//   physics::PhysicsVector v = calculator.Compute(w);
class Window {
 public:
  // REQUIRES: capacity >= 1. Allocates all memory the window will ever use,
  // from `memory` (e.g. a HugePageArena shared by many windows), which must
  // outlive the window.
  explicit Window(size_t capacity,
                  std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // Copying a window is almost always a per-tick mistake; move it instead.
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
  Window(Window&&) noexcept = default;
  Window& operator=(Window&&) noexcept = default;

  // Appends `obs`, evicting the oldest observation when full.
  // O(log n) plus one memmove per sorted array; never allocates.
  void Push(const Observation& obs);
  // Asks the CPU to start loading what the next Push() and a compute read
  // (the sorted prices and returns and the ring slots that leave), without
  // waiting: call
  // it for the next symbol before working on this one, so a loop tick that
  // finds the windows out of cache overlaps their loading with work.
  void Prefetch() const;

  // Forgets every observation; keeps the memory.
  void Clear();

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // The most recent observation. REQUIRES: size() >= 1.
  const Observation& latest() const { return latest_; }

  // The i-th oldest price, i in [0, size()).
  double price(size_t i) const { return prices_[Wrap(head_ + i, capacity_)]; }

  // The i-th oldest log return ln(p_(i+1) / p_i), i in [0, returns_size()).
  double log_return(size_t i) const {
    return returns_[Wrap(head_ + 1 + i, capacity_)];
  }
  size_t returns_size() const { return size_ == 0 ? 0 : size_ - 1; }

  // Sum of the window's prices, kept as a compensated running sum that is
  // recomputed from scratch every capacity() pushes, so its error stays
  // within a few ulp of the sum instead of drifting. O(1).
  double price_sum() const { return price_sum_.value(); }

  // The window's prices, ascending. Valid until the next Push or Clear.
  std::span<const double> sorted_prices() const {
    return {sorted_prices_.data(), size_};
  }
  // The window's log returns, ascending. Valid until the next Push or Clear.
  std::span<const double> sorted_returns() const {
    return {sorted_returns_.data(), returns_size()};
  }
  // How many of the log returns are below and above 0 (the rest are 0), kept
  // by Push: where the negatives end and the positives begin in
  // sorted_returns(), without a search. O(1).
  size_t negative_returns() const { return negative_returns_; }
  size_t positive_returns() const { return positive_returns_; }

 private:
  static size_t Wrap(size_t i, size_t n) { return i >= n ? i - n : i; }

  // Neumaier's compensated summation: the rounding error of each addition is
  // carried separately, also when an addend exceeds the running sum.
  class CompensatedSum {
   public:
    void Add(double x);
    double value() const { return sum_ + compensation_; }

   private:
    double sum_ = 0;
    double compensation_ = 0;
  };

  void UpdateSortedPrices(bool evict, double evicted, double added);
  void UpdatePriceSum(bool evict, double evicted, double added);
  void UpdateSortedReturns(bool evict, double evicted, double added);

  size_t capacity_;
  size_t size_ = 0;
  size_t head_ = 0;  // ring index of the oldest price
  Observation latest_{0.0, 0.0, 0.0};
  std::pmr::vector<double> prices_;          // ring, capacity_
  // returns_[j] is the return ending at the price in prices_[j]; the slot of
  // the oldest price holds no live return.
  std::pmr::vector<double> returns_;         // ring, parallel to prices_
  std::pmr::vector<double> sorted_prices_;   // first size_ entries valid
  std::pmr::vector<double> sorted_returns_;  // first returns_size() entries valid
  size_t negative_returns_ = 0;
  size_t positive_returns_ = 0;
  CompensatedSum price_sum_;
  size_t pushes_since_resum_ = 0;  // resummed when it reaches capacity_
};

}  // namespace physics

#endif  // PHYSICS_ENGINE_PHYSICS_WINDOW_H_
