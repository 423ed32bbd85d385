// physics-status's "sentinel" check, for redis-sentinel:// URLs: what the
// sentinels say about the master (its address, its replicas and their lag,
// whether they can still agree on a failover, when the last one happened).
// Not thread-safe: opens and uses its own connections on the caller's thread.
#ifndef PHYSICS_TOOLS_STATUS_SENTINEL_CHECKS_H_
#define PHYSICS_TOOLS_STATUS_SENTINEL_CHECKS_H_

#include "engine/redis/config.h"
#include "tools/status/check.h"

namespace physics::ops {

// Replicas below this count are a WARN: with one replica left, the next
// failover leaves the new master without any copy.
inline constexpr int64_t kMinReplicas = 2;

// "sentinel": asks every sentinel of the URL (REDIS_SENTINEL_PASSWORD, each
// bounded by options.timeout) whether it answers; the first that does is asked
// SENTINEL MASTER, SENTINEL REPLICAS and SENTINEL CKQUORUM for cfg.master_name,
// and the master it names is asked INFO replication (lag in seconds since
// each replica's last acknowledgement, and bytes behind master_repl_offset).
// The last failover's age is known when the master's config-epoch is above 0
// (a failover happened): it is the master's role-reported-time, i.e. since
// this sentinel saw the node become master (or since the sentinel started,
// when that is later); with config-epoch 0 there was none.
// FAIL: no sentinel answers, or none knows the master name.
// WARN: fewer than kMinReplicas replicas up (not s_down/disconnected per the
// sentinel and "online" in the master's INFO), CKQUORUM refused (no
// failover could be authorised), a sentinel of the URL does not answer, the
// master is flagged s_down/o_down.
// REQUIRES: cfg.uses_sentinels().
CheckResult CheckSentinels(const redis::Config& cfg, const StatusOptions& options);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_SENTINEL_CHECKS_H_
