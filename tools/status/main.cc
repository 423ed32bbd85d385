// physics-status: one command that tells an operator whether the system is
// healthy (Redis, the engine's and the bridge's heartbeats, the bridge's
// /healthz, the data they leave in Redis). Exit code 0 OK, 1 WARN, 2 FAIL
// (also 2 for a bad command line). See docs/operations.md and --help.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/cli/flags.h"
#include "engine/http_client/http_client.h"
#include "engine/redis/connection.h"
#include "engine/redis/cluster.h"
#include "engine/redis/key_space.h"
#include "engine/redis/partition.h"
#include "tools/status/check.h"
#include "tools/status/cluster_checks.h"
#include "tools/status/redis_checks.h"
#include "tools/status/report.h"
#include "tools/status/sentinel_checks.h"
#include "tools/status/system_checks.h"
#include "engine/cli/redis_flags.h"

namespace physics::ops {
namespace {

constexpr std::string_view kProgram = "physics-status";
// "sentinel" runs only for redis-sentinel:// URLs, "cluster" only for
// redis-cluster:// ones (where it covers "subscribers": sharded channels).
const std::vector<std::string> kCheckNames = {"redis",  "persistence", "latency",   "sentinel",    "cluster", "engine",
                                              "bridge", "states",      "snapshots", "subscribers", "dlq"};

absl::StatusOr<std::set<std::string>> ParseCheckList(std::string_view text) {
  std::set<std::string> out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    if (part == "all") {
      out.insert(kCheckNames.begin(), kCheckNames.end());
    } else if (std::find(kCheckNames.begin(), kCheckNames.end(), std::string(part)) != kCheckNames.end()) {
      out.insert(std::string(part));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--check \"", std::string(text), "\": expected all or a comma list of ",
                                                     absl::StrJoin(kCheckNames, ",")));
    }
  }
  return out;
}

// The checks that read keys, through `keyspace` (one server or a cluster).
void RunKeyChecks(redis::KeySpace& keyspace, const redis::Config& cfg, const std::set<std::string>& selected,
                  const StatusOptions& options, std::vector<CheckResult>& results) {
  const auto want = [&](const char* name) { return selected.count(name) > 0; };
  if (want("engine")) {
    results.push_back(CheckHeartbeats(keyspace, cfg, "engine", options));
    AddEngineLeader(keyspace, cfg, results.back());
  }
  if (want("bridge")) {
    results.push_back(CheckHeartbeats(keyspace, cfg, "bridge", options));
    ProbeBridgeHealth(options, results.back());
  }
  if (want("states")) results.push_back(CheckStates(keyspace, cfg, options, absl::Now()));
  if (want("snapshots")) results.push_back(CheckSnapshots(keyspace, cfg, options));
}

std::vector<CheckResult> RunClusterChecks(const redis::Config& cfg, const std::set<std::string>& selected,
                                          const StatusOptions& options, int partitions) {
  std::vector<CheckResult> results;
  const auto want = [&](const char* name) { return selected.count(name) > 0; };
  absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(cfg, options.timeout, options.timeout);
  if (!cluster.ok()) {
    CheckResult down{.name = "cluster"};
    down.Raise(Level::kFail, std::string(cluster.status().message()));
    results.push_back(std::move(down));
    if (want("bridge") && !options.bridge_url.empty()) {
      CheckResult bridge{.name = "bridge"};
      ProbeBridgeHealth(options, bridge);
      results.push_back(std::move(bridge));
    }
    return results;
  }
  const auto per_master = [&](const char* name, auto check) {
    results.push_back(OnEveryMaster(*cluster, name, [&](redis::Connection& conn) {
      absl::StatusOr<InfoFields> info = ReadInfo(conn);
      if (!info.ok()) {
        CheckResult failed{.name = name};
        failed.Raise(Level::kFail, std::string(info.status().message()));
        return failed;
      }
      return check(conn, *info);
    }));
  };
  if (want("redis")) per_master("redis", [](redis::Connection&, const InfoFields& info) { return CheckServer(info); });
  if (want("persistence")) {
    per_master("persistence", [](redis::Connection& c, const InfoFields& info) { return CheckPersistence(c, info); });
  }
  if (want("latency")) {
    per_master("latency", [&](redis::Connection& c, const InfoFields&) { return CheckLatency(c, options); });
  }
  if (want("cluster") || want("subscribers")) results.push_back(CheckCluster(*cluster, cfg, partitions));
  redis::KeySpace keyspace(*cluster);
  RunKeyChecks(keyspace, cfg, selected, options, results);
  if (want("dlq")) results.push_back(CheckDeadLetters(keyspace, cfg, options, partitions));
  return results;
}

std::vector<CheckResult> RunChecks(const redis::Config& cfg, const std::set<std::string>& selected,
                                   const StatusOptions& options, int partitions) {
  std::vector<CheckResult> results;
  const auto want = [&](const char* name) { return selected.count(name) > 0; };
  absl::StatusOr<redis::Connection> conn = redis::Connection::Open(cfg, options.timeout, options.timeout);
  absl::StatusOr<InfoFields> info = conn.ok() ? ReadInfo(*conn) : absl::StatusOr<InfoFields>(conn.status());
  if (!info.ok()) {
    // Nothing else can be read; the bridge's own /healthz still can.
    CheckResult down{.name = "redis"};
    down.Raise(Level::kFail, std::string(info.status().message()));
    results.push_back(std::move(down));
    if (want("sentinel") && cfg.uses_sentinels()) results.push_back(CheckSentinels(cfg, options));
    if (want("bridge") && !options.bridge_url.empty()) {
      CheckResult bridge{.name = "bridge"};
      ProbeBridgeHealth(options, bridge);
      results.push_back(std::move(bridge));
    }
    return results;
  }
  if (want("redis")) results.push_back(CheckServer(*info));
  if (want("persistence")) results.push_back(CheckPersistence(*conn, *info));
  if (want("latency")) results.push_back(CheckLatency(*conn, options));
  if (want("sentinel") && cfg.uses_sentinels()) results.push_back(CheckSentinels(cfg, options));
  redis::KeySpace keyspace(*conn);
  RunKeyChecks(keyspace, cfg, selected, options, results);
  if (want("subscribers")) results.push_back(CheckSubscribers(*conn, cfg));
  if (want("dlq")) results.push_back(CheckDeadLetters(keyspace, cfg, options, partitions));
  return results;
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // PerKey writes through hiredis's own write()
  std::string redis_url, key_namespace, checks = "all", partitions_text = std::to_string(redis::kDefaultPartitions);
  bool json = false;
  double timeout_seconds = 2;
  StatusOptions options;

  cli::FlagSet flags(std::string(kProgram),
                     absl::StrCat("Tells whether physics-state is healthy: Redis (version, memory, eviction policy,\n"
                                  "persistence, PING latency), for a redis-sentinel:// URL the sentinels' view\n"
                                  "(master, replicas and their lag, quorum, last failover), for a redis-cluster://\n"
                                  "URL the cluster's (state, masters, slots, keys, replicas, sharded subscribers),\n"
                                  "the engine's and the\n"
                                  "bridge's heartbeats (and which engine holds the leader lease), the bridge's\n"
                                  "/healthz, physics:state:* ages, market:snapshot:* TTLs, state_update subscribers and\n"
                                  "the dead-letter stream. One OK/WARN/FAIL line per check; exit code 0 OK, 1 WARN,\n"
                                  "2 FAIL.",
                                  cli::kRedisEnvironmentHelp));
  cli::AddRedisFlags(flags, &redis_url, &key_namespace);
  flags.AddChecked("check", &checks,
                   absl::StrCat("which checks to run: all, or a comma list of ", absl::StrJoin(kCheckNames, ",")),
                   [](std::string_view v) { return ParseCheckList(v).status(); });
  flags.AddChecked("partitions", &partitions_text,
                   "the partition count the engines, bridges and publishers use (their --partitions): the dlq\n"
                   "check sums every partition's DLQ (a cluster's, or --shard engines' on one server)",
                   [](std::string_view v) { return redis::ParsePartitions(v).status(); });
  flags.AddBool("json", &json, "print one JSON object instead of lines");
  flags.AddString("bridge-url", &options.bridge_url,
                  "where the bridge serves HTTP (its /healthz is probed); empty skips the probe");
  flags.AddDouble("timeout", &timeout_seconds, 0.01, 60, "seconds to wait for Redis or the bridge, per step");
  flags.AddInt("pings", &options.pings, 1, 1000, "PINGs timed for the latency check");
  flags.AddDouble("max-latency-ms", &options.max_latency_ms, 0, 1e6, "WARN when the P50 PING is slower");
  flags.AddInt("heartbeat-max-age", &options.heartbeat_max_age_seconds, 1, kHeartbeatTtlSeconds,
               "WARN when a heartbeat was not refreshed for this many seconds (30 - TTL)");
  flags.AddInt("max-state-age", &options.max_state_age_seconds, 1, INT64_MAX / 1000000,
               "WARN when the oldest physics:state timestamp is older, seconds");
  flags.AddInt("max-snapshot-ttl", &options.max_snapshot_ttl_seconds, 1, INT32_MAX,
               "WARN when a market:snapshot TTL is outside (0, this], seconds");
  flags.AddInt("max-dlq", &options.max_dlq, 0, INT64_MAX,
               "WARN when market:ticks:dlq and the partition DLQs hold more entries");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  absl::StatusOr<redis::Config> config = cli::ResolveRedisConfig(flags, redis_url, key_namespace);
  if (!config.ok()) return flags.UsageError(config.status());
  if (!options.bridge_url.empty()) {
    if (absl::Status s = http::ParseUrl(options.bridge_url).status(); !s.ok()) {
      return flags.UsageError(absl::StrCat("--bridge-url: ", std::string(s.message())));
    }
  }
  options.timeout = absl::Seconds(timeout_seconds);

  const int partitions = *redis::ParsePartitions(partitions_text);
  const std::vector<CheckResult> results =
      config->uses_cluster() ? RunClusterChecks(*config, *ParseCheckList(checks), options, partitions)
                             : RunChecks(*config, *ParseCheckList(checks), options, partitions);
  const std::string target = cli::DescribeTarget(*config);
  const bool color = !json && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  std::cout << (json ? JsonReport(target, results) : HumanReport(target, results, color)) << std::flush;
  return static_cast<int>(Overall(results));
}

}  // namespace
}  // namespace physics::ops

int main(int argc, char** argv) { return physics::ops::Main(argc, argv); }
