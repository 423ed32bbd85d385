#include "engine/physics/window.h"

#include <cassert>
#include <cmath>
#include <cstring>

namespace physics {
namespace {

// std::lower_bound over values[0, n) without data-dependent branches: each
// halving step selects with a conditional move, so a search costs log2(n)
// dependent loads instead of about log2(n)/2 mispredicted jumps (the inserted
// and evicted values are unpredictable by nature).
size_t LowerBound(const double* values, size_t n, double x) {
  if (n == 0) return 0;
  const double* base = values;
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half] < x ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - values) + (*base < x ? 1 : 0);
}

// Puts `added` in sorted position in `sorted` (holding `n` entries),
// replacing one entry equal to `evicted` when `evict` (any equal entry will
// do: equal values are indistinguishable). Moves only the entries between
// the two positions.
void InsertSorted(double* sorted, size_t n, bool evict, double evicted, double added) {
  size_t to = LowerBound(sorted, n, added);
  if (!evict) {
    std::memmove(sorted + to + 1, sorted + to, (n - to) * sizeof(double));
  } else if (const size_t from = LowerBound(sorted, n, evicted); to > from) {
    // `to` counted the evicted entry, which leaves from below.
    std::memmove(sorted + from, sorted + from + 1, (to - from - 1) * sizeof(double));
    --to;
  } else {
    std::memmove(sorted + to + 1, sorted + to, (from - to) * sizeof(double));
  }
  sorted[to] = added;
}

}  // namespace

Window::Window(size_t capacity, std::pmr::memory_resource* memory)
    : capacity_(capacity),
      prices_(capacity, memory),
      returns_(capacity, memory),
      sorted_prices_(capacity, memory),
      sorted_returns_(capacity, memory) {
  assert(capacity >= 1);
}

void Window::Clear() {
  size_ = 0;
  head_ = 0;
  latest_ = Observation{0.0, 0.0, 0.0};
  negative_returns_ = 0;
  positive_returns_ = 0;
  price_sum_ = CompensatedSum();
  pushes_since_resum_ = 0;
}

void Window::CompensatedSum::Add(double x) {
  const double t = sum_ + x;
  compensation_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
  sum_ = t;
}

void Window::Prefetch() const {
  constexpr size_t kLine = 64 / sizeof(double);
  const size_t n = size_;
  const auto prefetch = [](const double* a, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i += kLine) __builtin_prefetch(a + i, /*rw=*/1, /*locality=*/3);
  };
  prefetch(sorted_prices_.data(), 0, n);
  prefetch(sorted_returns_.data(), 0, n);
  __builtin_prefetch(prices_.data() + head_, 1, 3);
  __builtin_prefetch(returns_.data() + Wrap(head_ + 1, capacity_), 1, 3);
}

void Window::Push(const Observation& obs) {
  const bool full = size_ == capacity_;
  const double evicted_price = prices_[head_];
  // The return that leaves with the oldest price is the one ending at the
  // second-oldest price.
  const bool evict_return = full && capacity_ >= 2;
  const double evicted_return =
      evict_return ? returns_[Wrap(head_ + 1, capacity_)] : 0.0;
  const bool add_return = size_ >= 1 && capacity_ >= 2;
  const double added_return = add_return ? std::log(obs.price / latest_.price) : 0.0;

  const size_t slot = full ? head_ : Wrap(head_ + size_, capacity_);
  UpdateSortedPrices(full, evicted_price, obs.price);
  UpdatePriceSum(full, evicted_price, obs.price);
  if (add_return) UpdateSortedReturns(evict_return, evicted_return, added_return);
  prices_[slot] = obs.price;
  returns_[slot] = added_return;
  if (full) {
    head_ = Wrap(head_ + 1, capacity_);
  } else {
    ++size_;
  }
  latest_ = obs;
}

void Window::UpdateSortedPrices(bool evict, double evicted, double added) {
  InsertSorted(sorted_prices_.data(), size_, evict, evicted, added);
}

// Call after UpdateSortedPrices: a resum reads the sorted prices.
void Window::UpdatePriceSum(bool evict, double evicted, double added) {
  if (++pushes_since_resum_ < capacity_) {
    if (evict) price_sum_.Add(-evicted);
    price_sum_.Add(added);
    return;
  }
  pushes_since_resum_ = 0;
  price_sum_ = CompensatedSum();
  const size_t n = evict ? size_ : size_ + 1;
  for (size_t i = 0; i < n; ++i) price_sum_.Add(sorted_prices_[i]);
}

void Window::UpdateSortedReturns(bool evict, double evicted, double added) {
  InsertSorted(sorted_returns_.data(), returns_size(), evict, evicted, added);
  if (evict) {
    negative_returns_ -= evicted < 0 ? 1 : 0;
    positive_returns_ -= evicted > 0 ? 1 : 0;
  }
  negative_returns_ += added < 0 ? 1 : 0;
  positive_returns_ += added > 0 ? 1 : 0;
}

}  // namespace physics
