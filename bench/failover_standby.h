// failover_bench's standby scenario (docs/SPEC.md §9, "Standby engine"): one
// redis-server, a leader and a standby physics-engine with --leader-lease,
// on the stream feed (a backlog of entries, then entries XADDed live) or the
// simulator; the leader is SIGKILLed once both are in their steady state.
// Per run: kill -> lease taken, lease taken -> the standby's first write (its
// own log line), and kill -> the first state_update of the standby.
// Not thread-safe: called from main.
#ifndef PHYSICS_BENCH_FAILOVER_STANDBY_H_
#define PHYSICS_BENCH_FAILOVER_STANDBY_H_

#include <cstdint>
#include <string>

namespace physics::bench {

struct StandbyOptions {
  std::string engine_bin;     // physics-engine (another build for an A/B run)
  std::string feed = "stream";  // "stream" or "sim"
  double lease_seconds = 2;
  double hz = 10;
  int symbols = 20;
  int64_t backlog = 200'000;  // stream entries written before the engines start
  int64_t live_rate = 2'000;  // stream entries XADDed per second during the run
};

// Runs `runs` failovers, prints a table (per run, median, min, max, target)
// and writes the JSON results to `json_path` when given. Returns the exit code.
int RunStandbyScenario(const StandbyOptions& options, int64_t runs, const std::string& json_path);

}  // namespace physics::bench

#endif  // PHYSICS_BENCH_FAILOVER_STANDBY_H_
