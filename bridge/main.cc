// physics-bridge: turns Redis pub/sub (state_update and --channels) into
// WebSocket and HTTP for dashboards and services. See docs/SPEC.md §6 and --help.
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bridge/auth.h"
#include "bridge/metrics.h"
#include "bridge/options.h"
#include "bridge/server.h"
#include "engine/cli/flags.h"
#include "engine/cli/redis_flags.h"
#include "engine/log/log.h"
#include "engine/redis/config.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/partition.h"

namespace physics::bridge {
namespace {

constexpr std::string_view kProgram = "physics-bridge";
// Descriptors besides the clients: Redis connections, HTTP scrapes, stdio.
constexpr int64_t kSpareDescriptors = 128;

// Raises the soft open-file limit so --max-clients sockets fit, and warns when
// the hard limit does not allow it.
void RaiseFileLimit(int64_t max_clients) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const auto needed = static_cast<rlim_t>(max_clients + kSpareDescriptors);
  const rlim_t target =
      limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
  if (limit.rlim_cur < target) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      log::Info(absl::StrCat("raised the open-file limit from ", before, " to ", limit.rlim_cur));
    } else {
      limit.rlim_cur = before;
    }
  }
  if (limit.rlim_cur < needed) {
    log::Warn(absl::StrCat("open-file limit is ", limit.rlim_cur, " (hard limit ", limit.rlim_max,
                              "): --max-clients ", max_clients, " needs about ", needed,
                              "; raise it (ulimit -n) or lower --max-clients"));
  }
}

int Main(int argc, char** argv) {
  log::SetProgram(kProgram);
  // Debian's Abseil is built with deadlock detection on: every Mutex::Lock
  // then updates a lock graph (GraphCycles, seen in the subscriber's
  // profile). Our locks are few and flat; the tests run with it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  BridgeOptions options;
  std::string listen = "127.0.0.1:8080", redis_url, key_namespace, channels;
  std::string token, token_file, allowed_origins;
  std::string partitions = absl::StrCat(redis::kDefaultPartitions);

  cli::FlagSet flags(
      std::string(kProgram),
      "Subscribes to Redis pub/sub (state_update and --channels) and serves it over\n"
      "WebSocket (GET /ws) and HTTP: GET / (dashboard), /api/state/{SYM}, /healthz, /metrics.\n"
      "\nEnvironment: REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD; "
      "REDIS_NAMESPACE; PHYSICS_BRIDGE_TOKEN.\nFlags override the environment.");
  flags.AddChecked("listen", &listen, "HOST:PORT to serve on; port 0 picks a free one (logged)",
                   [](std::string_view v) { return ParseListenAddress(v).status(); });
  cli::AddRedisFlags(flags, &redis_url, &key_namespace);
  flags.AddChecked("channels", &channels,
                   "extra comma-separated channels to forward; glob patterns use PSUBSCRIBE; "
                   "clients subscribe by these names",
                   [](std::string_view v) { return ParseChannelList(v).status(); });
  flags.AddInt("max-clients", &options.max_clients, 1, 1'000'000, "most WebSocket clients at once");
  flags.AddInt("max-frame-bytes", &options.max_frame_bytes, 125, 16 << 20,
               "largest client message; a bigger one closes the connection with 1009");
  flags.AddInt("max-client-msgs-per-sec", &options.max_client_msgs_per_sec, 1, 1'000'000,
               "client messages per second; excess gets an error frame, twice as many closes with 1008");
  flags.AddInt("queue-depth", &options.queue_depth, 1, 1'000'000,
               "frames queued per client; when full, a symbol's older message is replaced by its newer one");
  flags.AddInt("slow-client-ms", &options.slow_client_ms, 10, 3'600'000,
               "close a client whose oldest unsent frame is older than this");
  flags.AddInt("io-threads", &options.io_threads, 1, BridgeMetrics::kMaxIoThreads,
               "threads writing to clients, each with its own share of them (1: one thread "
               "for every socket)");
  // Checked after parsing, so a bad value (maybe a real secret) is not echoed.
  flags.AddString("token", &token,
                  "require this token on /ws and /api/* (Authorization: Bearer <token> or "
                  "?token=<token>); visible to ps, prefer --token-file or $PHYSICS_BRIDGE_TOKEN "
                  "(default: $PHYSICS_BRIDGE_TOKEN or none)");
  flags.AddString("token-file", &token_file,
                  "read the token from this file once at start (a trailing newline is ignored)");
  flags.AddChecked("allowed-origins", &allowed_origins,
                   "comma-separated origins (scheme://host[:port]) WebSocket upgrades may come "
                   "from; another Origin gets 403, none at all is allowed (default: any)",
                   [](std::string_view v) { return ParseOriginList(v).status(); });
  flags.AddChecked("partitions", &partitions,
                   "with a redis-cluster:// URL: the partition channels state_update arrives on "
                   "(1-1024, the engine's --partitions)",
                   [](std::string_view v) { return redis::ParsePartitions(v).status(); });
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  options.listen = *ParseListenAddress(listen);
  options.channels = *ParseChannelList(channels);
  options.partitions = *redis::ParsePartitions(partitions);
  if (flags.WasSet("allowed-origins")) options.allowed_origins = *ParseOriginList(allowed_origins);
  if (flags.WasSet("token") && flags.WasSet("token-file")) {
    return flags.UsageError("--token and --token-file: give one of them, not both");
  }
  if (flags.WasSet("token")) {
    if (absl::Status s = CheckToken(token, "--token"); !s.ok()) return flags.UsageError(s);
    options.token = token;
  } else if (flags.WasSet("token-file")) {
    absl::StatusOr<std::string> from_file = ReadTokenFile(token_file);
    if (!from_file.ok()) return flags.UsageError(std::string(from_file.status().message()));
    options.token = *std::move(from_file);
  } else if (const char* env = std::getenv("PHYSICS_BRIDGE_TOKEN"); env != nullptr) {
    // Set but empty is refused rather than taken as "no token": failing
    // closed beats silently serving without authentication.
    if (absl::Status s = CheckToken(env, "PHYSICS_BRIDGE_TOKEN"); !s.ok()) {
      return flags.UsageError(std::string(s.message()));
    }
    options.token = env;
  }
  absl::StatusOr<redis::Config> config = cli::ResolveRedisConfig(flags, redis_url, key_namespace);
  if (!config.ok()) return flags.UsageError(config.status());

  if (options.token.empty() && options.listen.host != "127.0.0.1" && options.listen.host != "::1") {
    log::Warn(absl::StrCat("listening on ", options.listen.host,
                              " without --token: anyone who can reach it can read /ws and /api/*"));
  }
  std::signal(SIGPIPE, SIG_IGN);
  RaiseFileLimit(options.max_clients);
  log::Info(absl::StrCat("starting: Redis ", cli::DescribeTarget(*config), ", max ", options.max_clients, " clients, ",
                            options.io_threads, " io threads",
                            options.token.empty() ? "" : ", token required on /ws and /api/*",
                            options.allowed_origins.empty() ? "" : ", origins restricted"));
  // This thread runs the Server's control io_context (acceptor, signals,
  // health checks and shard 0's clients); the Server starts --io-threads - 1
  // more io threads and the subscriber thread.
  Server server(options, *std::move(config), redis::InstanceId());
  if (absl::Status s = server.Listen(); !s.ok()) {
    log::Error(std::string(s.message()));
    return 1;
  }
  server.Run();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace physics::bridge

int main(int argc, char** argv) { return physics::bridge::Main(argc, argv); }
