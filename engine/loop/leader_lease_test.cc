#include "engine/loop/leader_lease.h"

#include "gtest/gtest.h"

namespace physics::loop {
namespace {

using namespace std::chrono_literals;
using Clock = LeaderLease::Clock;

const Clock::time_point kT0 = Clock::time_point{} + 1000s;

TEST(LeaderLease, StartsStandingByAndMaySendNothing) {
  LeaderLease lease(2s);
  EXPECT_FALSE(lease.leading());
  EXPECT_FALSE(lease.MaySend(kT0));
  EXPECT_FALSE(lease.RenewalDue(kT0));
}

TEST(LeaderLease, MaySendUntilThreeQuartersOfTheLeaseAfterTheConfirmedRenewal) {
  LeaderLease lease(2s);
  EXPECT_TRUE(lease.Acquired(kT0));
  EXPECT_TRUE(lease.MaySend(kT0 + 1499ms));
  EXPECT_FALSE(lease.MaySend(kT0 + 1500ms));
}

TEST(LeaderLease, OnlyAConfirmedRenewalExtendsTheWindow) {
  LeaderLease lease(2s);
  lease.Acquired(kT0);
  lease.Sent(kT0 + 1s);  // sent, reply not read yet
  EXPECT_FALSE(lease.MaySend(kT0 + 1600ms));
  lease.Confirmed();
  EXPECT_TRUE(lease.MaySend(kT0 + 2400ms));
  EXPECT_FALSE(lease.MaySend(kT0 + 2500ms));
}

TEST(LeaderLease, ARenewalIsDueAQuarterLeaseAfterTheLastConfirmedOne) {
  LeaderLease lease(2s);
  lease.Acquired(kT0);
  EXPECT_FALSE(lease.RenewalDue(kT0 + 499ms));
  EXPECT_TRUE(lease.RenewalDue(kT0 + 500ms));
}

TEST(LeaderLease, LostReportsOnlyTheFirstTimeAndStopsSending) {
  LeaderLease lease(2s);
  lease.Acquired(kT0);
  EXPECT_TRUE(lease.Lost());
  EXPECT_FALSE(lease.Lost());
  EXPECT_FALSE(lease.leading());
  EXPECT_FALSE(lease.MaySend(kT0));
}

TEST(LeaderLease, AcquiredReportsANewLeadershipOnly) {
  LeaderLease lease(2s);
  EXPECT_TRUE(lease.Acquired(kT0));
  EXPECT_FALSE(lease.Acquired(kT0 + 1s));  // re-claimed on a new connection
  lease.Released();
  EXPECT_FALSE(lease.leading());
}

}  // namespace
}  // namespace physics::loop
