// Replays tests/golden/physics_golden.json (written by tools/gen_golden.py
// with numpy and scipy) through Window + Calculator and checks every field to
// a relative 1e-9, zeros and regimes exactly.
#include <cmath>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/physics/vector.h"

namespace physics {
namespace {

constexpr double kRelTol = 1e-9;
constexpr const char* kFieldNames[] = {"mass",    "momentum",  "friction",
                                       "entropy", "nash_dist", "alpha"};

bool Same(double expected, double actual) {
  if (expected == 0 || actual == 0) return expected == actual;
  return std::fabs(expected - actual) <=
         kRelTol * std::max(std::fabs(expected), std::fabs(actual));
}

// Empty when `actual` matches `expect` (an array of six numbers) and
// `regime`; else a description of the first mismatch.
std::string Mismatch(const PhysicsVector& actual, simdjson::dom::array expect,
                     std::string_view regime) {
  const double got[] = {actual.mass,    actual.momentum,  actual.friction,
                        actual.entropy, actual.nash_dist, actual.alpha};
  size_t i = 0;
  for (simdjson::dom::element e : expect) {
    const double want = e.get_double().value();
    if (!Same(want, got[i])) {
      return std::string(kFieldNames[i]) + ": numpy " + std::to_string(want) +
             ", got " + std::to_string(got[i]) + " (diff " +
             std::to_string(got[i] - want) + ")";
    }
    ++i;
  }
  if (RegimeName(actual.regime) != regime) {
    return "regime: numpy " + std::string(regime) + ", got " +
           std::string(RegimeName(actual.regime));
  }
  return "";
}

TEST(Golden, EveryVectorMatchesNumpy) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.load(PHYSICS_GOLDEN_JSON).get(root), simdjson::SUCCESS)
      << "cannot read " << PHYSICS_GOLDEN_JSON;
  size_t cases = 0;
  size_t checks = 0;
  for (simdjson::dom::object c : root["cases"].get_array()) {
    const std::string_view name = c["name"].get_string();
    const size_t capacity = static_cast<size_t>(c["capacity"].get_uint64().value());
    const Calculator calc(capacity);
    Window w(capacity);
    simdjson::dom::array obs = c["obs"].get_array();
    simdjson::dom::array expected = c["checks"].get_array();
    auto check = expected.begin();
    int64_t step = 0;
    for (simdjson::dom::array o : obs) {
      w.Push({o.at(0).get_double().value(), o.at(1).get_double().value(),
              o.at(2).get_double().value()});
      if (check != expected.end() &&
          (*check)["step"].get_int64().value() == step) {
        simdjson::dom::object chk = (*check).get_object();
        const PhysicsVector v = calc.Compute(w);
        std::string err = Mismatch(v, chk["expect"].get_array(),
                                   chk["regime"].get_string().value());
        simdjson::dom::object alt;
        if (!err.empty() && chk["alt"].get(alt) == simdjson::SUCCESS &&
            Mismatch(v, alt["expect"].get_array(), alt["regime"].get_string().value())
                .empty()) {
          err.clear();  // matches numpy computed with glibc's log instead
        }
        EXPECT_TRUE(err.empty()) << name << " step " << step << ": " << err;
        ++check;
        ++checks;
      }
      ++step;
    }
    EXPECT_EQ(check, expected.end()) << name << ": unreplayed checks";
    ++cases;
  }
  EXPECT_GE(cases, 15u);
  EXPECT_GE(checks, 1000u);
  RecordProperty("checks", static_cast<int>(checks));
}

}  // namespace
}  // namespace physics
