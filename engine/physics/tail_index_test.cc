#include "engine/physics/tail_index.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace physics {
namespace {

std::vector<double> Prepare(std::vector<double> r) {
  std::sort(r.begin(), r.end());
  return r;
}

TailIndex Hill(const std::vector<double>& sorted) {
  const auto negatives = std::ranges::count_if(sorted, [](double r) { return r < 0; });
  const auto positives = std::ranges::count_if(sorted, [](double r) { return r > 0; });
  return HillTailIndex(sorted, static_cast<size_t>(negatives), static_cast<size_t>(positives));
}

// docs/SPEC.md §5.6 the textbook way: sort |r| > 0 descending, mean ln(x_i / x_(k+1)).
double NaiveAlpha(const std::vector<double>& r) {
  std::vector<double> x;
  for (double v : r) {
    if (std::fabs(v) > 0) x.push_back(std::fabs(v));
  }
  if (x.size() < 20) return 0.0;
  std::sort(x.begin(), x.end(), std::greater<>());
  const size_t k = static_cast<size_t>(std::floor(0.1 * static_cast<double>(x.size())));
  double h = 0;
  for (size_t i = 0; i < k; ++i) h += std::log(x[i] / x[k]);
  h /= static_cast<double>(k);
  return h == 0 ? 10.0 : std::min(1.0 / h, 10.0);
}

TEST(HillTailIndex, IsZeroWithFewerThanTwentyNonZeroReturns) {
  std::vector<double> r(100, 0.0);
  for (int i = 0; i < 19; ++i) r[static_cast<size_t>(i)] = 0.01 * (i + 1);
  const TailIndex t = Hill(Prepare(r));
  EXPECT_EQ(t.tail_count, 19u);
  EXPECT_EQ(t.alpha, 0.0);
}

TEST(HillTailIndex, IsTenWhenTheTopReturnsAllTie) {
  std::vector<double> r(40, 0.02);
  for (size_t i = 0; i < 20; ++i) r[i] = -0.02;  // |r| ties across signs
  const TailIndex t = Hill(Prepare(r));
  EXPECT_EQ(t.tail_count, 40u);
  EXPECT_EQ(t.alpha, 10.0);
}

TEST(HillTailIndex, MatchesTheTextbookEstimatorOnRandomReturns) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    const double dof = 0.8 + (trial % 7) * 0.5;
    std::student_t_distribution<double> t(dof);
    const size_t size = 20 + static_cast<size_t>(rng() % 2000);
    std::vector<double> r(size);
    for (double& v : r) v = (rng() % 10 == 0) ? 0.0 : t(rng) * 0.001;
    const double expected = NaiveAlpha(r);
    const double actual = Hill(Prepare(r)).alpha;
    ASSERT_NEAR(actual, expected, 1e-12 * std::max(1.0, expected)) << "trial " << trial;
  }
}

TEST(HillTailIndex, ReadsOneSidedTails) {
  std::vector<double> positive, negative;
  for (int i = 1; i <= 50; ++i) {
    positive.push_back(0.001 * i * i);
    negative.push_back(-0.001 * i * i);
  }
  EXPECT_NEAR(Hill(Prepare(positive)).alpha, NaiveAlpha(positive), 1e-12);
  EXPECT_NEAR(Hill(Prepare(negative)).alpha, NaiveAlpha(negative), 1e-12);
}

// The largest |r| two finite prices can give (~1454) over the smallest
// non-zero one (~1.1e-16): each ratio is near 2^64, and a product of a chunk
// of them must neither overflow nor lose the estimate.
TEST(HillTailIndex, StaysFiniteAndExactOnExtremeRatios) {
  std::vector<double> r;
  for (int i = 0; i < 40; ++i) r.push_back(1400.0 + i);
  r.push_back(std::log1p(-0x1p-53));  // -1.1e-16: the threshold x_(k+1)
  for (int i = 0; i < 360; ++i) r.push_back(-1e-16 * (1 + i % 3) / 8);
  const TailIndex t = Hill(Prepare(r));
  ASSERT_EQ(t.tail_count, 401u);
  EXPECT_TRUE(std::isfinite(t.alpha));
  EXPECT_NEAR(t.alpha, NaiveAlpha(r), 1e-12 * NaiveAlpha(r));
}

}  // namespace
}  // namespace physics
