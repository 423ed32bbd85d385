// The built-in market simulator (--feed sim): per symbol, a mean-reverting
// log-price random walk with power-law (Pareto) jumps whose tail index
// depends on the symbol, so Gaussian, Levy and Critical regimes all appear
// within a few hundred loop ticks. Deterministic for a given --seed.
// Not thread-safe: polled by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_SIM_FEED_H_
#define PHYSICS_ENGINE_FEED_SIM_FEED_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/feed/feed.h"

namespace physics::feed {

// Default symbol names: well-known tickers first, then SYM0001, SYM0002, ...
std::vector<std::string> DefaultSymbols(size_t count);

// Parses --symbols: a count ("100") or a comma list ("SPY,QQQ"). Symbols are
// normalised; kInvalidArgument names a bad entry or duplicate.
absl::StatusOr<std::vector<std::string>> ParseSymbolsFlag(std::string_view value);

class SimFeed final : public Feed {
 public:
  SimFeed(std::vector<std::string> symbols, uint64_t seed);

  // Waits for `deadline`, then generates one burst of 1-3 ticks per symbol
  // stamped with the wall clock.
  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;

  // Generates one burst at event time `now` without waiting (benchmarks).
  void GenerateBurst(schema::EpochMicros now, TickSink& sink);

 private:
  struct SymbolPath {
    double log_price;
    double anchor;      // long-run log price the walk reverts to
    double tail_index;  // Pareto jump index: > 2 Gaussian-like, < 1 Critical
    double scale;       // typical return per tick
  };

  double NextReturn(const SymbolPath& path);

  std::vector<std::string> symbols_;
  std::vector<SymbolPath> paths_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::normal_distribution<double> normal_{0.0, 1.0};
  schema::Tick tick_;  // reused so a burst allocates nothing
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_SIM_FEED_H_
