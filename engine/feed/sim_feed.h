// The built-in market simulator (--feed sim): per symbol, a mean-reverting
// log-price random walk with power-law (Pareto) jumps whose tail index
// depends on the symbol, so Gaussian, Levy and Critical regimes all appear
// within a few hundred loop ticks. Deterministic for a given --seed: each
// symbol draws from its own random stream, seeded by the seed and its name,
// so its ticks do not depend on which other symbols are simulated (an engine
// shard simulating its share, docs/SPEC.md §9, gives each of its symbols the
// ticks one engine would). Not thread-safe: polled by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_SIM_FEED_H_
#define PHYSICS_ENGINE_FEED_SIM_FEED_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/feed/feed.h"
#include "engine/feed/symbol_share.h"

namespace physics::feed {

// Default symbol names: well-known tickers first, then SYM0001, SYM0002, ...
std::vector<std::string> DefaultSymbols(size_t count);

// Parses --symbols: a count ("100") or a comma list ("SPY,QQQ"). Symbols are
// normalised; kInvalidArgument names a bad entry or duplicate.
absl::StatusOr<std::vector<std::string>> ParseSymbolsFlag(std::string_view value);

class SimFeed final : public Feed {
 public:
  // Simulates the symbols of `symbols` that `share` owns; a symbol's index
  // in `symbols` picks its regime, so a share keeps every symbol's regime.
  SimFeed(std::vector<std::string> symbols, uint64_t seed, const SymbolShare& share = {});

  // How many symbols it simulates.
  size_t symbol_count() const { return paths_.size(); }

  // Waits for `deadline`, then generates one burst of 1-3 ticks per symbol
  // stamped with the wall clock.
  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;

  // Generates one burst at event time `now` without waiting (benchmarks).
  void GenerateBurst(schema::EpochMicros now, TickSink& sink);

 private:
  // SplitMix64: 8 bytes of state per symbol (an mt19937_64 would take 2.5 kB).
  class SplitMix64 {
   public:
    using result_type = uint64_t;
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return UINT64_MAX; }
    result_type operator()();

   private:
    uint64_t state_;
  };

  struct SymbolPath {
    std::string symbol;
    SplitMix64 rng;
    std::normal_distribution<double> normal{0.0, 1.0};  // keeps a spare draw
    double log_price = 0;
    double anchor = 0;      // long-run log price the walk reverts to
    double tail_index = 0;  // Pareto jump index: > 2 Gaussian-like, < 1 Critical
    double scale = 0;       // typical return per tick
  };

  double Uniform(SymbolPath& path) { return uniform_(path.rng); }
  double NextReturn(SymbolPath& path);

  std::vector<SymbolPath> paths_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  schema::Tick tick_;  // reused so a burst allocates nothing
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_SIM_FEED_H_
