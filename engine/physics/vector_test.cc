#include "engine/physics/vector.h"

#include <cmath>

#include <gtest/gtest.h>

namespace physics {
namespace {

TEST(RegimeName, SpellsTheSpecWireNames) {
  EXPECT_EQ(RegimeName(Regime::kWait), "WAIT");
  EXPECT_EQ(RegimeName(Regime::kGaussian), "Gaussian");
  EXPECT_EQ(RegimeName(Regime::kLevy), "Levy");
  EXPECT_EQ(RegimeName(Regime::kCritical), "Critical");
}

TEST(Calculator, OneObservationGivesOnlyFriction) {
  const Calculator calc(10);
  Window w(10);
  w.Push({100.0, 4.0, 2.0});
  const PhysicsVector v = calc.Compute(w);
  EXPECT_EQ(v.mass, 0.0);
  EXPECT_EQ(v.momentum, 0.0);
  EXPECT_EQ(v.friction, 0.5);
  EXPECT_EQ(v.entropy, 0.0);
  EXPECT_EQ(v.nash_dist, 0.0);
  EXPECT_EQ(v.alpha, 0.0);
  EXPECT_EQ(v.regime, Regime::kWait);
}

TEST(Calculator, MassIsVolumeTimesCloseLocationValue) {
  const Calculator calc(10);
  Window w(10);
  for (double p : {10.0, 14.0, 11.0}) w.Push({p, 2.0, 1.0});
  // CLV = ((11-10) - (14-11)) / 4 = -0.5
  const PhysicsVector v = calc.Compute(w);
  EXPECT_EQ(v.mass, -1.0);
  EXPECT_EQ(v.momentum, -1.0 * std::log(11.0 / 14.0));
}

TEST(Calculator, ZeroVolumeGivesZeroFrictionAndMass) {
  const Calculator calc(10);
  Window w(10);
  for (double p : {10.0, 14.0, 11.0}) w.Push({p, 0.0, 3.0});
  const PhysicsVector v = calc.Compute(w);
  EXPECT_EQ(v.friction, 0.0);
  EXPECT_EQ(v.mass, 0.0);
}

TEST(Calculator, FlatPricesGiveExactZerosAndWait) {
  const Calculator calc(50);
  Window w(50);
  for (int i = 0; i < 50; ++i) w.Push({100.0, 5.0, 1.0});
  const PhysicsVector v = calc.Compute(w);
  EXPECT_EQ(v.mass, 0.0);
  EXPECT_EQ(v.entropy, 0.0);
  EXPECT_EQ(v.nash_dist, 0.0);
  EXPECT_EQ(v.regime, Regime::kWait);
}

TEST(Calculator, AlternatingReturnsHaveOneBitOfEntropy) {
  const Calculator calc(64);
  Window w(64);
  for (int i = 0; i < 41; ++i) w.Push({i % 2 == 0 ? 100.0 : 101.0, 1.0, 1.0});
  // 40 returns, 20 of ln(101/100) and 20 of ln(100/101): two equal bins.
  EXPECT_NEAR(calc.Compute(w).entropy, 1.0, 1e-15);
  // |r| all (nearly) tie: h rounds to ~0, so alpha saturates.
  EXPECT_EQ(calc.Compute(w).alpha, 10.0);
  EXPECT_EQ(calc.Compute(w).regime, Regime::kGaussian);
}

TEST(Calculator, AcceptsWindowsSmallerThanItsMaximum) {
  const Calculator calc(1000);
  Window w(20);
  for (int i = 0; i < 30; ++i) w.Push({100.0 + (i * 7 % 5), 1.0, 1.0});
  const PhysicsVector v = calc.Compute(w);
  EXPECT_TRUE(std::isfinite(v.nash_dist));
  EXPECT_GT(v.entropy, 0.0);
}

}  // namespace
}  // namespace physics
