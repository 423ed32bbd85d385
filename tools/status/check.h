// What physics-status reports: one CheckResult per line (redis, persistence,
// latency, sentinel, engine, bridge, states, snapshots, subscribers, dlq),
// each OK, WARN or FAIL with a one-line reason, plus facts for --json. The thresholds that
// turn a fact into a WARN are the StatusOptions, all settable by flags.
// Thread-safety: plain values.
#ifndef PHYSICS_TOOLS_STATUS_CHECK_H_
#define PHYSICS_TOOLS_STATUS_CHECK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace physics::ops {

// Ordered by severity; the overall result is the worst one and is also the
// exit code (0 OK, 1 WARN, 2 FAIL).
enum class Level { kOk = 0, kWarn = 1, kFail = 2 };

std::string_view LevelName(Level level);

struct CheckResult {
  std::string name = {};
  Level level = Level::kOk;
  std::string message = {};
  // Facts for --json: key and its already-encoded JSON value.
  std::vector<std::pair<std::string, std::string>> data = {};

  // Records a fact for --json.
  void Add(std::string key, int64_t value);
  void Add(std::string key, double value);
  void AddText(std::string key, std::string_view value);
  // `json` is already an encoded JSON value (an array or object).
  void AddEncoded(std::string key, std::string json);
  // Raises the level to at least `level` and appends `why` to the message
  // ("...; why").
  void Raise(Level level, std::string_view why);
};

// The thresholds. A heartbeat is `SET ops:hb:{service}:{id} 1 EX 30`,
// refreshed every 10 s (docs/SPEC.md §2), so its age is 30 s minus its TTL.
struct StatusOptions {
  int64_t pings = 5;                        // PINGs timed for the latency line
  double max_latency_ms = 5;                // WARN when the P50 PING is slower
  int64_t heartbeat_max_age_seconds = 20;   // WARN when no refresh for this long
  int64_t max_state_age_seconds = 60;       // WARN when the oldest state is older
  int64_t max_snapshot_ttl_seconds = 60;    // snapshot TTLs must be in (0, this]
  int64_t max_dlq = 0;                      // WARN when the DLQ holds more entries
  std::string bridge_url = "http://127.0.0.1:8080";  // "" skips the /healthz probe
  absl::Duration timeout = absl::Seconds(2);          // connect and each I/O wait
};

inline constexpr int64_t kHeartbeatTtlSeconds = 30;

// "0.4 s", "95 s", "12 min", "3.5 h" for a report line.
std::string FormatAge(absl::Duration age);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_CHECK_H_
