// physics-status's "cluster" check, for redis-cluster:// URLs (docs/SPEC.md
// §9): the cluster's own state, its masters with their slots, keys and
// replicas (and how far behind each replica is), slot coverage, the sharded
// subscribers of every partition channel, and whether PUBLISH is being
// broadcast over the cluster bus. Also runs the per-server checks (redis,
// persistence, latency) on every master and merges them into one line each.
// Not thread-safe: uses the caller's Cluster.
#ifndef PHYSICS_TOOLS_STATUS_CLUSTER_CHECKS_H_
#define PHYSICS_TOOLS_STATUS_CLUSTER_CHECKS_H_

#include <functional>
#include <string>

#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "tools/status/check.h"

namespace physics::ops {

// "cluster":
// FAIL: a master answers CLUSTER INFO with a cluster_state other than ok, or
//       some of the 16384 slots have no master.
// WARN: a master without an online replica (its failure would take its
//       slots down), a partition channel nobody is subscribed to (bridge
//       down?), a master that does not answer.
// Facts: cluster_state, masters [{address, slots, keys, replicas, max
// replica lag in bytes, partitions, sharded subscribers}], covered_slots,
// publish_sent (cluster_stats_messages_publish_sent summed over the masters:
// it grows when something PUBLISHes, which a cluster copies to every node).
CheckResult CheckCluster(redis::Cluster& cluster, const redis::Config& cfg, int partitions);

// Runs `check` on every master and merges the results into one named `name`:
// the worst level, each master's message prefixed with its address.
CheckResult OnEveryMaster(redis::Cluster& cluster, const std::string& name,
                          const std::function<CheckResult(redis::Connection&)>& check);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_CLUSTER_CHECKS_H_
