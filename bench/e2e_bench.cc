// End to end: physics-engine (sim) → redis-server → physics-bridge → K
// WebSocket clients, all real processes on this machine. The clients are this
// program's own epoll loop (cheap enough not to be the bottleneck: its CPU
// per message is reported, about half the bridge's; --client-threads spreads
// the connections over more loops, which measured no better at 1 000 clients
// on two cores and costs more CPU per message). Per run it reports latency
// from the event's `timestamp` to receipt (P50/P99/max), messages delivered
// per second, lost messages (seq gaps per client and symbol), bridge CPU per
// delivered message, bridge RSS and the bridge's own latency split (from its
// /metrics); optionally the same run with one client that never reads, to
// show it costs the others nothing, and the machine's floor for a run: the
// same bursts written straight to loopback sockets, no Redis/engine/bridge.
//
//   build/bin/e2e_bench                  # 100x10Hz K=10,100 (+floor, +slow client); 100x1Hz K=1000 (+floor)
//   build/bin/e2e_bench --only 100x1x1000 --seconds 10 [--floor | --slow-client]
//   build/bin/e2e_bench --quick --json bench/results/e2e.json
//
// The pieces live in bench/e2e/: harness (the runs), ws_reader (the clients),
// event_parser, proc_sampler and prometheus_scrape; this file is the command
// line and the report.
#include <sys/resource.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/e2e/harness.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"

namespace physics::bench::e2e {
namespace {

std::string Dir(const char* argv0) {
  std::string self = argv0;
  const size_t slash = self.rfind('/');
  return slash == std::string::npos ? "." : self.substr(0, slash);
}

int Main(int argc, char** argv) {
  bool quick = false, floor = false, slow_client = false;
  double seconds = 10;
  std::string json_path, only;
  cli::FlagSet flags("e2e_bench",
                     "Engine (sim) -> Redis -> bridge -> K WebSocket clients, all on this machine.");
  flags.AddBool("quick", &quick, "CI mode: 100 symbols x 10 Hz with 10 clients for 3 s");
  int64_t client_threads = 1;
  flags.AddInt("client-threads", &client_threads, 1, 64,
               "threads reading the WebSocket clients (each takes every n-th connection)");
  flags.AddDouble("seconds", &seconds, 1, 3600, "measured seconds per run (after a 3 s warm-up)");
  flags.AddString("only", &only, "run only this one, e.g. 100x10x100 (symbols x Hz x clients)");
  flags.AddBool("floor", &floor,
                "with --only: this machine's floor for that run instead (the same bursts over plain "
                "loopback sockets, no Redis, engine or bridge)");
  flags.AddBool("slow-client", &slow_client,
                "with --only: one more client that subscribes and never reads");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if ((floor || slow_client) && only.empty()) return flags.UsageError("--floor and --slow-client need --only");
  if (floor && slow_client) return flags.UsageError("--floor and --slow-client go separately");

  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  std::vector<RunSpec> runs;
  if (quick) {
    runs = {{100, 10, 10, false, flags.WasSet("seconds") ? seconds : 3}};
  } else if (!only.empty()) {
    std::vector<std::string> p = absl::StrSplit(only, 'x');
    RunSpec r;
    if (p.size() != 3 || !absl::SimpleAtoi(p[0], &r.symbols) || !absl::SimpleAtod(p[1], &r.hz) ||
        !absl::SimpleAtoi(p[2], &r.clients) || r.symbols < 1 || r.hz <= 0 || r.clients < 1) {
      return flags.UsageError("--only: expected SYMBOLSxHZxCLIENTS, e.g. 100x10x100");
    }
    r.seconds = seconds;
    r.floor = floor;
    r.slow_client = slow_client;
    runs = {r};
  } else {
    // Each target run is followed by its floor.
    runs = {{100, 10, 10, false, seconds},
            {100, 10, 100, false, seconds},
            {100, 10, 100, false, seconds, true},
            {100, 10, 100, true, seconds},
            {100, 1, 1000, false, seconds},
            {100, 1, 1000, false, seconds, true}};
  }

  const std::string dir = Dir(argv[0]);
  Harness harness(dir + "/physics-engine", dir + "/physics-bridge", static_cast<int>(client_threads));
  std::vector<RunResult> results;
  for (const RunSpec& spec : runs) {
    absl::StatusOr<RunResult> r = harness.Run(spec);
    if (!r.ok()) {
      std::cerr << "e2e_bench: " << r.status() << "\n";
      return 1;
    }
    results.push_back(*r);
  }

  std::cout << "\nEnd to end: engine (sim) -> redis-server -> physics-bridge -> WebSocket clients\n"
               "(floor rows: the same bursts over plain loopback sockets, no Redis, engine or bridge;\n"
               " bridge columns there are the sender threads')\n"
               "| symbols x Hz | clients | delivered/s | P50 ms | P99 ms | max ms | burst P99 median / worst ms | lost | bridge CPU us/msg | client CPU us/msg | bridge RSS MB | event->bridge ms | bridge->socket ms | note |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  std::vector<JsonObject> rows;
  for (const RunResult& r : results) {
    const std::string note = r.spec.floor         ? "floor: plain loopback sockets"
                             : r.spec.slow_client ? "+1 client that never reads: " + r.slow_client_outcome
                                                  : "";
    std::cout << absl::StrFormat("| %d x %g | %d | %.0f | %.2f | %.2f | %.2f | %.2f / %.2f | %d | %.2f | %.2f | %.1f | %.2f | %.2f | %s |\n",
                                 r.spec.symbols, r.spec.hz, r.spec.clients, r.delivered_per_sec,
                                 r.p50_ms, r.p99_ms, r.max_ms, r.burst_p99_median_ms,
                                 r.burst_p99_worst_ms, r.lost, r.bridge_cpu_us_per_msg,
                                 r.client_cpu_us_per_msg, r.bridge_rss_mb, r.redis_to_bridge_ms,
                                 r.bridge_to_socket_ms, note);
    // The run, what arrived, its latency, what it cost, the bridge's split.
    rows.emplace_back()
        .Int("symbols", r.spec.symbols).Number("hz", r.spec.hz).Int("clients", r.spec.clients)
        .Bool("slow_client", r.spec.slow_client).Bool("floor", r.spec.floor)
        .Number("delivered_per_sec", r.delivered_per_sec)
        .Number("p50_ms", r.p50_ms).Number("p99_ms", r.p99_ms).Number("max_ms", r.max_ms)
        .Number("burst_p99_median_ms", r.burst_p99_median_ms).Number("burst_p99_worst_ms", r.burst_p99_worst_ms)
        .Int("lost", r.lost)
        .Number("bridge_cpu_us_per_msg", r.bridge_cpu_us_per_msg)
        .Number("client_cpu_us_per_msg", r.client_cpu_us_per_msg).Number("bridge_rss_mb", r.bridge_rss_mb)
        .Number("redis_to_bridge_ms", r.redis_to_bridge_ms).Number("bridge_to_socket_ms", r.bridge_to_socket_ms)
        .String("note", note);
  }
  return WriteResults("e2e_bench", json_path,
                      JsonObject().String("benchmark", "e2e").Array("rows", rows));
}

}  // namespace
}  // namespace physics::bench::e2e

int main(int argc, char** argv) { return physics::bench::e2e::Main(argc, argv); }
