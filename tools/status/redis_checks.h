// physics-status checks of the Redis server itself: reachable (version, memory, eviction
// policy), persistence settings and their last results, PING round trips.
// Not thread-safe: each function uses the caller's Connection.
#ifndef PHYSICS_TOOLS_STATUS_REDIS_CHECKS_H_
#define PHYSICS_TOOLS_STATUS_REDIS_CHECKS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "engine/redis/connection.h"
#include "tools/status/check.h"

namespace physics::ops {

// INFO's "field:value" lines.
using InfoFields = absl::flat_hash_map<std::string, std::string>;

// Runs INFO (all default sections). kUnavailable etc. from the connection.
absl::StatusOr<InfoFields> ReadInfo(redis::Connection& conn);

// "redis": version, uptime, used memory against maxmemory, eviction policy.
// WARN when memory is above 90 % of maxmemory, or the policy may evict keys
// that have no TTL (allkeys-*): readers would silently lose a symbol's state.
CheckResult CheckServer(const InfoFields& info);

// "persistence": AOF (and appendfsync, read with CONFIG GET when allowed) and
// RDB save points. No persistence is OK (the engine rewrites every state it
// computes) but said; a failed last write, rewrite or save is a WARN, and so
// is a server still loading its data.
CheckResult CheckPersistence(redis::Connection& conn, const InfoFields& info);

// "latency": options.pings PINGs one after another; P50 and max. WARN when
// the P50 is above options.max_latency_ms; FAIL when a PING fails.
CheckResult CheckLatency(redis::Connection& conn, const StatusOptions& options);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_REDIS_CHECKS_H_
