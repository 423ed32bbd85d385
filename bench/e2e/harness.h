// The end-to-end benchmark's runs: starts redis-server, physics-bridge and
// physics-engine (sim) for a run, or the floor's plain sender threads,
// connects the clients, measures for the run's seconds after a warm-up and
// turns what the readers and the bridge report into one RunResult.
// Not thread-safe: one Harness does one run at a time on the calling thread;
// it starts and joins the run's client (and floor sender) threads itself.
#ifndef PHYSICS_BENCH_E2E_HARNESS_H_
#define PHYSICS_BENCH_E2E_HARNESS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "bench/e2e/ws_reader.h"

namespace physics::bench::e2e {

struct RunSpec {
  int symbols = 100;
  double hz = 10;
  int clients = 10;
  bool slow_client = false;
  double seconds = 10;
  // Without Redis, the engine or the bridge: see Harness::RunFloor.
  bool floor = false;
};

struct RunResult {
  RunSpec spec;
  int64_t delivered = 0, lost = 0, closed_clients = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  // Each burst (the messages of one event timestamp) has its own P99: their
  // median and the worst. A run's P99 is set by its slowest bursts; the
  // median burst tells a steady cost from one hiccup.
  double burst_p99_median_ms = -1, burst_p99_worst_ms = -1;  // -1: no full burst
  double delivered_per_sec = 0, bridge_cpu_us_per_msg = 0, client_cpu_us_per_msg = 0;
  double bridge_cpu_seconds = 0;  // over the measured window (floor: the sender threads')
  double bridge_rss_mb = 0;
  // Means over the run from the bridge's histograms, ms (-1: not measured).
  double redis_to_bridge_ms = -1, bridge_to_socket_ms = -1;
  std::string slow_client_outcome;
};

class Harness {
 public:
  // engine_bin, bridge_bin: the physics-engine and physics-bridge to run.
  // client_threads: threads reading the clients (--client-threads).
  Harness(std::string engine_bin, std::string bridge_bin, int client_threads)
      : engine_bin_(std::move(engine_bin)),
        bridge_bin_(std::move(bridge_bin)),
        client_threads_(client_threads) {}

  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Runs `spec` (3 s warm-up, then spec.seconds measured) and returns its
  // figures. Errors: a process, redis-server or connection that failed.
  absl::StatusOr<RunResult> Run(const RunSpec& spec);

 private:
  using Clock = std::chrono::steady_clock;

  // The real system: engine (sim) -> redis-server -> physics-bridge -> clients.
  absl::StatusOr<RunResult> RunSystem(const RunSpec& spec);
  // This machine's floor for the same run: the same bursts (events of the
  // engine's size, each wrapped as the bridge wraps it) written by plain
  // threads straight to the clients' loopback TCP sockets, every burst packed
  // in one buffer and sent with one blocking send per client, as many sender
  // threads as the bridge has io threads. No Redis, no engine, no bridge: the
  // least any bridge could cost here, read by the same client loop.
  absl::StatusOr<RunResult> RunFloor(const RunSpec& spec);

  // Fills result's burst_p99_* from latencies_ms_ and stamps_; bursts with
  // fewer messages than a full one (cut by the end of the run) are left out.
  // REQUIRES: result.spec is set.
  void BurstP99s(RunResult& result) const;
  // Resets the per-run state and returns the run's symbols.
  std::vector<std::string> Prepare(const RunSpec& spec);
  // Reads every client (those with reader set) until `end` on
  // client_threads_ threads, measuring from `measure_at`, when `on_measure`
  // runs (to snapshot the server side). Fills the client-side figures of
  // `result` and latencies_ms_, delivered_, lost_, client_cpu_.
  void Measure(std::vector<Client>& clients, Clock::time_point measure_at, Clock::time_point end,
               const std::function<void()>& on_measure, RunResult& result);

  std::string engine_bin_, bridge_bin_;
  int client_threads_;
  size_t expected_messages_ = 0;
  std::vector<std::string> symbols_;
  absl::flat_hash_map<std::string, int> symbol_index_;
  std::vector<float> latencies_ms_;
  std::vector<int64_t> stamps_;  // event timestamp of each latency
  int64_t delivered_ = 0, lost_ = 0;
  double client_cpu_ = 0;
};

}  // namespace physics::bench::e2e

#endif  // PHYSICS_BENCH_E2E_HARNESS_H_
