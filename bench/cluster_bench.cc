// The real physics-engine binary on a Redis Cluster against one standalone
// redis-server (docs/SPEC.md §9): a standalone server and a cluster of 3
// masters without replicas (the standalone has none, so replication CPU would
// skew the comparison) are started once; each run then runs
// `physics-engine --feed sim --symbols N --hz H --duration S` against each in
// turn (the order alternates from run to run) and reads, per server, INFO
// commandstats and INFO cpu, and per master CLUSTER INFO's
// cluster_stats_messages_publish_sent, before and after. Updates landed are
// the PUBLISH (standalone) and SPUBLISH (cluster) calls, one per symbol
// update; tick P50/P99 come from the engine's exit line, which covers the
// whole run while --seconds is at most its 10 s status period
// (engine/loop/run_loop.cc). Prints each run, then the medians (min–max)
// beside the targets, and a projection of N masters' capacity.
//
//   build/bin/cluster_bench                       # 3 runs of 5 s, 1000 symbols at 50 Hz
//   build/bin/cluster_bench --runs 5 --json out.json
//   build/bin/cluster_bench --leader-lease 2      # every write fenced (docs/engine.md)
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/redis_limit.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"
#include "tests/support/cluster_set.h"
#include "tests/support/programs.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

// One server's counters at one moment.
struct NodeCounters {
  double cpu = 0;             // used_cpu_user + used_cpu_sys, seconds
  int64_t calls = 0;          // every command
  int64_t command_usec = 0;   // spent executing them (INFO commandstats)
  int64_t publishes = 0;      // PUBLISH + SPUBLISH
  int64_t publish_sent = 0;   // cluster bus PUBLISH messages (cluster nodes)
};

NodeCounters Read(const testing::RedisServer& server, bool cluster) {
  const bench::CommandTotals commands = bench::AllCommands(server);
  return {.cpu = bench::RedisCpuSeconds(server),
          .calls = commands.calls,
          .command_usec = commands.usec,
          .publishes = bench::CommandCalls(server, "publish") + bench::CommandCalls(server, "spublish"),
          .publish_sent =
              cluster ? bench::ClusterInfoCounter(server, "cluster_stats_messages_publish_sent") : 0};
}

// One engine run against one target: per server, the counters' deltas.
struct TargetRun {
  std::vector<NodeCounters> nodes;
  double tick_p50 = 0, tick_p99 = 0;  // ms, the engine's exit line

  double updates() const {
    double n = 0;
    for (const NodeCounters& c : nodes) n += static_cast<double>(c.publishes);
    return n;
  }
  int64_t calls() const {
    int64_t n = 0;
    for (const NodeCounters& c : nodes) n += c.calls;
    return n;
  }
  double calls_per_update() const { return static_cast<double>(calls()) / updates(); }
  // Redis CPU, all servers, µs per symbol update.
  double cpu_us_per_update() const {
    double cpu = 0;
    for (const NodeCounters& c : nodes) cpu += c.cpu;
    return cpu * 1e6 / updates();
  }
  // Of cpu_us_per_update, the part spent executing commands (the rest is
  // reading, parsing, replying and the event loop).
  double command_us_per_update() const {
    double usec = 0;
    for (const NodeCounters& c : nodes) usec += static_cast<double>(c.command_usec);
    return usec / updates();
  }
  // Server i's CPU per update of its share (its part of all command calls).
  double node_cpu_us_per_update(size_t i) const {
    const double share = static_cast<double>(nodes[i].calls) / static_cast<double>(calls());
    return nodes[i].cpu * 1e6 / (updates() * share);
  }
  // Server i's command calls vs the mean over the servers, percent (+/-).
  double balance_pct(size_t i) const {
    const double mean = static_cast<double>(calls()) / static_cast<double>(nodes.size());
    return (static_cast<double>(nodes[i].calls) / mean - 1) * 100;
  }
  int64_t publish_sent() const {
    int64_t n = 0;
    for (const NodeCounters& c : nodes) n += c.publish_sent;
    return n;
  }
};

// The servers' CPU while nothing writes to them for `seconds` (cron, and on a
// cluster the bus's pings), ms summed: the part of "CPU per update" that
// does not depend on the updates.
double IdleCpuMs(const std::vector<testing::RedisServer*>& servers, double seconds) {
  double before = 0, after = 0;
  for (const testing::RedisServer* s : servers) before += bench::RedisCpuSeconds(*s);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  for (const testing::RedisServer* s : servers) after += bench::RedisCpuSeconds(*s);
  return (after - before) * 1e3;
}

// Runs the engine to its end against `servers` (reached through `url`) and
// returns the deltas, or an error naming what went wrong.
absl::StatusOr<TargetRun> RunEngine(const std::string& engine, const std::string& url,
                                    const std::vector<testing::RedisServer*>& servers, bool cluster,
                                    int64_t symbols, double hz, double seconds, double leader_lease) {
  std::vector<NodeCounters> before;
  for (const testing::RedisServer* s : servers) before.push_back(Read(*s, cluster));
  std::vector<std::string> argv = {engine, "--feed", "sim", "--symbols", absl::StrCat(symbols),
                                   "--hz", absl::StrCat(hz), "--duration", absl::StrCat(seconds)};
  if (leader_lease > 0) argv.insert(argv.end(), {"--leader-lease", absl::StrCat(leader_lease)});
  const testing::RunResult r =
      testing::RunToCompletion(std::move(argv), absl::Seconds(seconds + 60), {{"REDIS_URL", url}});
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("physics-engine against ", url, " ended with ", r.exit_code,
                                            ": ", r.err));
  }
  TargetRun run;
  const size_t stopped = r.err.rfind("stopped after ");
  const size_t tick = r.err.find("tick ms p50 ", stopped == std::string::npos ? 0 : stopped);
  if (stopped == std::string::npos || tick == std::string::npos ||
      std::sscanf(r.err.c_str() + tick, "tick ms p50 %lf p99 %lf", &run.tick_p50, &run.tick_p99) != 2) {
    return absl::InternalError(absl::StrCat("no exit line with tick times from physics-engine: ", r.err));
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    const NodeCounters after = Read(*servers[i], cluster);
    run.nodes.push_back({.cpu = after.cpu - before[i].cpu,
                         .calls = after.calls - before[i].calls,
                         .command_usec = after.command_usec - before[i].command_usec,
                         .publishes = after.publishes - before[i].publishes,
                         .publish_sent = after.publish_sent - before[i].publish_sent});
  }
  if (run.updates() <= 0) return absl::InternalError(absl::StrCat("no update landed on ", url));
  return run;
}

struct Pair {
  TargetRun standalone, cluster;
  double cpu_ratio() const { return cluster.cpu_us_per_update() / standalone.cpu_us_per_update(); }
  double worst_master_cpu_us() const {
    double worst = 0;
    for (size_t i = 0; i < cluster.nodes.size(); ++i) {
      worst = std::max(worst, cluster.node_cpu_us_per_update(i));
    }
    return worst;
  }
  double worst_master_cpu_ratio() const { return worst_master_cpu_us() / standalone.cpu_us_per_update(); }
  double worst_balance_pct() const {
    double worst = 0;
    for (size_t i = 0; i < cluster.nodes.size(); ++i) {
      worst = std::max(worst, std::abs(cluster.balance_pct(i)));
    }
    return worst;
  }
  double tick_p99_ratio() const { return cluster.tick_p99 / standalone.tick_p99; }
};

// Median, min and max of field(pair) over the runs.
template <typename F>
std::array<double, 3> Spread(const std::vector<Pair>& pairs, F field) {
  std::vector<double> v;
  for (const Pair& p : pairs) v.push_back(field(p));
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back()};
}

int Main(int argc, char** argv) {
  int64_t runs = 3, symbols = 1000, masters_count = 3;
  double seconds = 5, hz = 50, leader_lease = 0;
  std::string json_path;
  cli::FlagSet flags("cluster_bench",
                     "Runs physics-engine (sim feed) against one standalone redis-server and a "
                     "Redis Cluster (3 masters, no replicas) alternately, and compares the servers' "
                     "command balance, cluster bus publishes, Redis CPU per symbol update and tick "
                     "times.");
  flags.AddInt("runs", &runs, 1, 100, "alternated standalone / cluster engine runs");
  flags.AddDouble("seconds", &seconds, 0.5, 10,
                  "the engine's --duration (at most its 10 s status period, so its exit line "
                  "covers the whole run)");
  flags.AddInt("symbols", &symbols, 1, 100000, "the engine's --symbols");
  flags.AddDouble("hz", &hz, 0.1, 10000, "the engine's --hz");
  flags.AddDouble("leader-lease", &leader_lease, 0, 3600,
                  "the engine's --leader-lease (0: none): what fencing every write costs the servers");
  flags.AddInt("masters", &masters_count, 3, 16,
               "cluster masters, no replicas (redis-cli --cluster create needs 3 or more)");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  const std::string self = argv[0];
  const size_t slash = self.rfind('/');
  const std::string engine =
      (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/physics-engine";

  testing::RedisServer standalone;
  testing::ClusterSet cluster({.masters = static_cast<int>(masters_count), .replicas_per_master = 0});
  if (absl::Status s = standalone.Start(); !s.ok()) {
    std::cerr << "cluster_bench: cannot start redis-server: " << s << "\n";
    return 1;
  }
  if (absl::Status s = cluster.Start(); !s.ok()) {
    std::cerr << "cluster_bench: cannot start the cluster: " << s << "\n";
    return 1;
  }
  std::vector<testing::RedisServer*> masters;
  for (size_t i = 0; i < cluster.node_count(); ++i) masters.push_back(&cluster.node(i));

  const double idle_alone_ms = IdleCpuMs({&standalone}, seconds);
  const double idle_cluster_ms = IdleCpuMs(masters, seconds);
  std::cout << absl::StrFormat(
      "Idle Redis CPU over %g s: standalone %.0f ms, %d masters %.0f ms (summed).\n\n",
                               seconds, idle_alone_ms, masters_count, idle_cluster_ms);
  std::cout << "| run | standalone updates | cluster updates | commands/update: standalone | cluster "
               "| Redis CPU µs/update: standalone | cluster (sum) | in commands: standalone | "
               "cluster | per master | calls vs mean % | "
               "bus publish_sent | tick P99 ms: standalone | cluster |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n";
  std::vector<Pair> pairs;
  for (int64_t run = 1; run <= runs; ++run) {
    Pair p;
    const auto one = [&](bool on_cluster) -> bool {
      absl::StatusOr<TargetRun> r =
          on_cluster ? RunEngine(engine, cluster.url(), masters, true, symbols, hz, seconds, leader_lease)
                     : RunEngine(engine, standalone.url(), {&standalone}, false, symbols, hz, seconds,
                                 leader_lease);
      if (!r.ok()) {
        std::cerr << "cluster_bench: " << r.status() << "\n";
        return false;
      }
      (on_cluster ? p.cluster : p.standalone) = *std::move(r);
      return true;
    };
    const bool cluster_first = run % 2 == 0;  // alternate the order against drift
    if (!one(cluster_first) || !one(!cluster_first)) return 1;
    std::vector<std::string> per_master, balance;
    for (size_t i = 0; i < p.cluster.nodes.size(); ++i) {
      per_master.push_back(absl::StrFormat("%.2f", p.cluster.node_cpu_us_per_update(i)));
      balance.push_back(absl::StrFormat("%+.1f", p.cluster.balance_pct(i)));
    }
    std::cout << absl::StrFormat(
                     "| %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %d | "
                     "%.3f | %.3f |\n",
                                 run, p.standalone.updates(), p.cluster.updates(),
                                 p.standalone.calls_per_update(), p.cluster.calls_per_update(),
                                 p.standalone.cpu_us_per_update(), p.cluster.cpu_us_per_update(),
                                 p.standalone.command_us_per_update(), p.cluster.command_us_per_update(),
                                 absl::StrJoin(per_master, " / "), absl::StrJoin(balance, " / "),
                                 p.cluster.publish_sent(), p.standalone.tick_p99, p.cluster.tick_p99)
              << std::flush;
    pairs.push_back(std::move(p));
  }

  const auto balance = Spread(pairs, [](const Pair& p) { return p.worst_balance_pct(); });
  const auto sent =
      Spread(pairs, [](const Pair& p) { return static_cast<double>(p.cluster.publish_sent()); });
  const auto cpu = Spread(pairs, [](const Pair& p) { return p.cpu_ratio(); });
  const auto master_cpu = Spread(pairs, [](const Pair& p) { return p.worst_master_cpu_ratio(); });
  const auto tick = Spread(pairs, [](const Pair& p) { return p.tick_p99_ratio(); });
  const auto alone_us = Spread(pairs, [](const Pair& p) { return p.standalone.cpu_us_per_update(); });
  const auto master_us = Spread(pairs, [](const Pair& p) { return p.worst_master_cpu_us(); });
  const auto fmt = [](const std::array<double, 3>& s, int decimals) {
    return absl::StrFormat("%.*f (%.*f–%.*f)", decimals, s[0], decimals, s[1], decimals, s[2]);
  };
  std::cout << absl::StrFormat(
      "\nphysics-engine --feed sim --symbols %d --hz %g --duration %g, standalone vs %d masters "
      "(no replicas), %d runs: median (min–max)\n",
      symbols, hz, seconds, masters_count, runs);
  std::cout << "  balance, worst master's calls vs the mean: ±" << fmt(balance, 1)
            << " %   target within ±10 %\n"
            << "  no broadcast, cluster_stats_messages_publish_sent summed over masters: "
            << fmt(sent, 0) << "   target 0\n"
            << "  Redis CPU per update, cluster (sum over masters) ÷ standalone: " << fmt(cpu, 2)
            << "   target ≤ 1.10\n"
            << "  Redis CPU per update, worst master (its CPU ÷ its share) ÷ standalone: "
            << fmt(master_cpu, 2) << "   target ≤ 1.10\n"
            << "  tick P99, cluster ÷ standalone: " << fmt(tick, 2) << "   target ≤ 1.5\n";
  // Each master is one thread: at most 1 s of CPU per second. Assumes a core
  // per master and an engine (or shards) that keep up.
  const double per_master_capacity = 1e6 / master_us[0], standalone_capacity = 1e6 / alone_us[0];
  std::cout << absl::StrFormat(
      "  PROJECTION (not measured): N masters land N × 1 ÷ (worst master's CPU per update) = N × "
      "%.0f updates/s (%.2f µs each), vs %.0f updates/s for one standalone server (%.2f µs): "
      "3 masters %.0f, 6 masters %.0f, given a core per master and engines that keep up. This "
      "machine's 2 cores, shared by the masters, the engine and other work, cannot show the "
      "scaling itself.\n",
      per_master_capacity, master_us[0], standalone_capacity, alone_us[0], 3 * per_master_capacity,
      6 * per_master_capacity);

  std::vector<bench::JsonObject> rows;
  for (const Pair& p : pairs) {
    rows.emplace_back()
        .Number("standalone_updates", p.standalone.updates())
        .Number("cluster_updates", p.cluster.updates())
        .Number("standalone_commands_per_update", p.standalone.calls_per_update())
        .Number("cluster_commands_per_update", p.cluster.calls_per_update())
        .Number("standalone_cpu_us_per_update", p.standalone.cpu_us_per_update())
        .Number("cluster_cpu_us_per_update", p.cluster.cpu_us_per_update())
        .Number("standalone_command_us_per_update", p.standalone.command_us_per_update())
        .Number("cluster_command_us_per_update", p.cluster.command_us_per_update())
        .Number("worst_master_cpu_us_per_update", p.worst_master_cpu_us())
        .Number("worst_balance_pct", p.worst_balance_pct())
        .Int("publish_sent", p.cluster.publish_sent())
        .Number("standalone_tick_p50_ms", p.standalone.tick_p50)
        .Number("standalone_tick_p99_ms", p.standalone.tick_p99)
        .Number("cluster_tick_p50_ms", p.cluster.tick_p50)
        .Number("cluster_tick_p99_ms", p.cluster.tick_p99);
  }
  return bench::WriteResults("cluster_bench", json_path,
                             bench::JsonObject()
                                 .String("benchmark", "cluster_bench")
                                 .Int("symbols", symbols)
                                 .Number("hz", hz)
                                 .Number("leader_lease", leader_lease)
                                 .Number("seconds", seconds)
                                 .Int("runs", runs)
                                 .Int("masters", masters_count)
                                 .Number("idle_standalone_cpu_ms", idle_alone_ms)
                                 .Number("idle_cluster_cpu_ms", idle_cluster_ms)
                                 .Number("worst_balance_pct_median", balance[0])
                                 .Number("publish_sent_median", sent[0])
                                 .Number("cpu_ratio_median", cpu[0])
                                 .Number("worst_master_cpu_ratio_median", master_cpu[0])
                                 .Number("tick_p99_ratio_median", tick[0])
                                 .Number("projected_updates_per_sec_per_master", per_master_capacity)
                                 .Number("standalone_capacity_updates_per_sec", standalone_capacity)
                                 .Array("runs_detail", rows));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
