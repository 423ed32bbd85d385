#include "engine/physics/auto_histogram.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace physics {
namespace {

// numpy.histogram's uniform-bin path, value by value over materialised
// edges: the reference the galloping walk must reproduce.
std::map<int64_t, int64_t> NaiveCounts(const std::vector<double>& data,
                                       const BinLayout& layout) {
  std::vector<double> edges(static_cast<size_t>(layout.nbins) + 1);
  for (int64_t i = 0; i <= layout.nbins; ++i) {
    edges[static_cast<size_t>(i)] =
        i == layout.nbins ? layout.last : static_cast<double>(i) * layout.step + layout.first;
  }
  std::map<int64_t, int64_t> counts;
  for (double x : data) {
    int64_t i = static_cast<int64_t>((x - layout.first) * layout.norm);
    if (i == layout.nbins) --i;
    if (x < edges[static_cast<size_t>(i)]) --i;
    if (x >= edges[static_cast<size_t>(i) + 1] && i != layout.nbins - 1) ++i;
    ++counts[i];
  }
  return counts;
}

std::map<int64_t, int64_t> WalkCounts(const std::vector<double>& sorted,
                                      const BinLayout& layout) {
  std::map<int64_t, int64_t> counts;
  int64_t previous = -1;
  ForEachNonEmptyBin(std::span<const double>(sorted), layout,
                     [&](int64_t bin, int64_t count) {
                       EXPECT_GT(bin, previous) << "bins must come in order, once";
                       previous = bin;
                       counts[bin] = count;
                     });
  return counts;
}

TEST(SortedQuantile, MatchesNumpyLinearPercentile) {
  // np.percentile([0.1, 0.7, 0.2, 0.9, 0.3, 0.35], [75, 25]) -> [0.6124999999999999, 0.225]
  const std::vector<double> x = {0.1, 0.2, 0.3, 0.35, 0.7, 0.9};
  EXPECT_EQ(SortedQuantile(x, 0.75), 0.6124999999999999);
  EXPECT_EQ(SortedQuantile(x, 0.25), 0.225);
  EXPECT_EQ(SortedQuantile(x, 1.0), 0.9);
  EXPECT_EQ(SortedQuantile(std::vector<double>{4.0}, 0.25), 4.0);
}

TEST(AutoBinLayout, MatchesNumpyEdgesOnSmallData) {
  // np.histogram([1,2,2,3,3,3,4,4,4,4,10], bins="auto")
  const std::vector<double> x = {1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 10};
  const BinLayout layout = AutoBinLayout(x);
  ASSERT_EQ(layout.nbins, 7);
  EXPECT_EQ(layout.Edge(1), 2.2857142857142856);
  EXPECT_EQ(layout.Edge(3), 4.857142857142858);
  EXPECT_EQ(layout.Edge(7), 10.0);
  EXPECT_EQ(WalkCounts(x, layout),
            (std::map<int64_t, int64_t>{{0, 3}, {1, 3}, {2, 4}, {6, 1}}));
}

TEST(AutoBinLayout, UsesSturgesWhenIqrIsZero) {
  // np.histogram([.5]*6 + [.75, 3.0], bins="auto") -> 40 bins: 6, ..1 @4, ..1 @39
  const std::vector<double> x = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.75, 3.0};
  const BinLayout layout = AutoBinLayout(x);
  ASSERT_EQ(layout.nbins, 40);
  EXPECT_EQ(WalkCounts(x, layout),
            (std::map<int64_t, int64_t>{{0, 6}, {4, 1}, {39, 1}}));
}

TEST(AutoBinLayout, WidensEqualValuesToOneUnitBin) {
  const std::vector<double> x(7, 5.0);
  const BinLayout layout = AutoBinLayout(x);
  EXPECT_EQ(layout.nbins, 1);
  EXPECT_EQ(layout.first, 4.5);
  EXPECT_EQ(layout.last, 5.5);
  EXPECT_EQ(layout.Centre(0), 5.0);
  EXPECT_EQ(WalkCounts(x, layout), (std::map<int64_t, int64_t>{{0, 7}}));
}

TEST(BinOf, IsMonotoneAndPutsTheMaximumInTheLastBin) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(999);
  for (double& v : x) v = normal(rng);
  std::sort(x.begin(), x.end());
  const BinLayout layout = AutoBinLayout(x);
  for (size_t i = 1; i < x.size(); ++i) {
    ASSERT_LE(layout.BinOf(x[i - 1]), layout.BinOf(x[i]));
  }
  EXPECT_EQ(layout.BinOf(x.back()), layout.nbins - 1);
  EXPECT_EQ(layout.BinOf(x.front()), 0);
}

// Random data of several shapes: continuous, heavy-tailed, heavily tied,
// on dyadic grids (values exactly on edges) and near-constant with outliers.
TEST(ForEachNonEmptyBin, CountsEqualNumpyStylePerValueBinning) {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::student_t_distribution<double> fat(1.2);
  std::uniform_int_distribution<int> grid(0, 16);
  for (int trial = 0; trial < 400; ++trial) {
    // Some windows long enough for runs that span whole 64-value strides.
    const size_t max_size = trial % 8 == 7 ? 12000 : 600;
    const size_t size = 5 + static_cast<size_t>(rng() % max_size);
    std::vector<double> x(size);
    for (double& v : x) {
      switch (trial % 5) {
        case 0: v = 100.0 + normal(rng); break;
        case 1: v = fat(rng) * 0.001; break;
        case 2: v = std::round(normal(rng) * 3.0); break;
        case 3: v = 1.0 + grid(rng) * 0.125; break;
        default: v = (rng() % 20 == 0) ? 7.0 : 1.0 + normal(rng) * 1e-9; break;
      }
    }
    std::sort(x.begin(), x.end());
    const BinLayout layout = AutoBinLayout(x);
    if (layout.nbins > 20'000'000) continue;  // the naive reference cannot
    const std::map<int64_t, int64_t> expected = NaiveCounts(x, layout);
    ASSERT_EQ(WalkCounts(x, layout), expected) << "trial " << trial;
    BinLayout checked = layout;  // the path that verifies every run end
    checked.bins_follow_edges = false;
    ASSERT_EQ(WalkCounts(x, checked), expected) << "trial " << trial;
  }
}

TEST(ForEachNonEmptyBin, HandlesAstronomicalBinCountsWithoutMaterialisingThem) {
  // IQR of ~1e-15 against a range of 1: ~1e15 bins, three non-empty.
  std::vector<double> x(50, 0.5);
  for (size_t i = 0; i < x.size(); ++i) x[i] += static_cast<double>(i) * 1e-16;
  x.front() = 0.0;
  x.back() = 1.0;
  std::sort(x.begin(), x.end());
  const BinLayout layout = AutoBinLayout(x);
  EXPECT_GT(layout.nbins, 1'000'000'000'000);
  int64_t total = 0;
  ForEachNonEmptyBin(std::span<const double>(x), layout,
                     [&](int64_t, int64_t count) { total += count; });
  EXPECT_EQ(total, 50);
}

}  // namespace
}  // namespace physics
