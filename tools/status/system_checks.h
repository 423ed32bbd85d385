// physics-status checks of what the engine and the bridge leave in Redis
// (docs/SPEC.md §2): heartbeats, states and their age, snapshot TTLs, state_update
// subscribers, the dead-letter stream; plus the bridge's own /healthz.
// Every key and channel name goes through Config::Key (the namespace).
// Keys are read through a KeySpace: one server, or every master of a cluster.
// Not thread-safe: each function uses the caller's connections.
#ifndef PHYSICS_TOOLS_STATUS_SYSTEM_CHECKS_H_
#define PHYSICS_TOOLS_STATUS_SYSTEM_CHECKS_H_

#include <string_view>

#include "absl/time/time.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/key_space.h"
#include "tools/status/check.h"

namespace physics::ops {

// `service` is "engine" or "bridge". Looks at ops:hb:{service}:* and, for the
// processes that name themselves after their binary, ops:hb:physics-{service}:*.
// OK when at least one heartbeat exists and every one was refreshed within
// options.heartbeat_max_age_seconds; WARN otherwise (missing, stale, or
// without a TTL).
CheckResult CheckHeartbeats(redis::KeySpace& keyspace, const redis::Config& cfg,
                            std::string_view service, const StatusOptions& options);

// Adds which engine leads to `check` (ops:leader:engine, docs/SPEC.md §9):
// fields leader and leader_ttl_ms, and "; leader ID (lease N ms left)" in the
// message; for engine shards (ops:leader:engine:I/N) fields leader_I_N and
// leader_ttl_ms_I_N, and "; shard I/N leader ID (lease N ms left)". Nothing
// when no engine runs with --leader-lease.
void AddEngineLeader(redis::KeySpace& keyspace, const redis::Config& cfg, CheckResult& check);

// Adds the bridge's GET /healthz (options.bridge_url + "/healthz") to `check`:
// WARN unless it answers 200; the bridge's reason is quoted.
void ProbeBridgeHealth(const StatusOptions& options, CheckResult& check);

// "states": physics:state:* count (SCAN + MGET in pages) and the newest and
// oldest `timestamp`. WARN when there are none, some do not parse, or the
// oldest is older than options.max_state_age_seconds.
CheckResult CheckStates(redis::KeySpace& keyspace, const redis::Config& cfg,
                        const StatusOptions& options, absl::Time now);

// "snapshots": market:snapshot:* count and TTL range. WARN when there are
// none, or a TTL is outside (0, options.max_snapshot_ttl_seconds].
CheckResult CheckSnapshots(redis::KeySpace& keyspace, const redis::Config& cfg,
                           const StatusOptions& options);

// "subscribers": PUBSUB NUMSUB state_update. WARN when nobody listens.
CheckResult CheckSubscribers(redis::Connection& conn, const redis::Config& cfg);

// "dlq": XLEN market:ticks:dlq and of every partition's
// market:ticks:dlq:{TAG} (docs/SPEC.md §2; the stream feed's DLQs on a
// cluster and of `--shard` engines on one server), summed. WARN above
// options.max_dlq entries, naming the keys that hold them. REQUIRES:
// partitions >= 1.
CheckResult CheckDeadLetters(redis::KeySpace& keyspace, const redis::Config& cfg,
                             const StatusOptions& options, int partitions);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_SYSTEM_CHECKS_H_
