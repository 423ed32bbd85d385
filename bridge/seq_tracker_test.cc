#include "bridge/seq_tracker.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

using V = SeqTracker::Verdict;

TEST(SeqTracker, ClassifiesNextGapAndDuplicate) {
  SeqTracker t;
  EXPECT_EQ(t.Observe("SPY", 5, 100), V::kFirst);
  EXPECT_EQ(t.Observe("SPY", 6, 200), V::kNext);
  EXPECT_EQ(t.Observe("SPY", 9, 300), V::kGap);
  EXPECT_EQ(t.Observe("SPY", 9, 300), V::kStale);
  EXPECT_EQ(t.Observe("SPY", 8, 250), V::kStale);
  EXPECT_EQ(t.Last("SPY"), 9);
  EXPECT_EQ(t.Observe("QQQ", 1, 1), V::kFirst);
}

TEST(SeqTracker, ANewerTimestampOrSeqOneMeansTheEngineRestarted) {
  SeqTracker t;
  t.Observe("SPY", 50, 1000);
  EXPECT_EQ(t.Observe("SPY", 3, 2000), V::kRestart);
  EXPECT_EQ(t.Last("SPY"), 3);
  t.Observe("QQQ", 50, std::nullopt);
  EXPECT_EQ(t.Observe("QQQ", 1, std::nullopt), V::kRestart);
  EXPECT_EQ(t.Observe("QQQ", 1, std::nullopt), V::kStale);
}

}  // namespace
}  // namespace physics::bridge
