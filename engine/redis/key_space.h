// The keys of one Redis server, or of every master of a Redis Cluster, for
// readers that look at many keys at once: physics-status, physics-top, the
// bridge's priming, a standby engine's stored seqs. SCAN runs on every node
// (a cluster's SCAN sees one node only); values are read with MGET on one
// server and with pipelined per-key commands on each master of a cluster
// (MGET across slots is CROSSSLOT there).
// Not thread-safe: uses the caller's Connection or Cluster.
//
//   KeySpace keys(conn);                 // or KeySpace keys(cluster);
//   keys.Scan(cfg.Key("physics:state:*"), [&](std::span<const std::string> page) {
//     return keys.Values(page, [&](size_t i, const redisReply* v) { ... });
//   });
#ifndef PHYSICS_ENGINE_REDIS_KEY_SPACE_H_
#define PHYSICS_ENGINE_REDIS_KEY_SPACE_H_

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/redis/cluster.h"
#include "engine/redis/connection.h"

namespace physics::redis {

class KeySpace {
 public:
  // One server. `conn` must outlive this.
  explicit KeySpace(Connection& conn) : conn_(&conn) {}
  // Every master of `cluster`, which must outlive this.
  explicit KeySpace(Cluster& cluster) : cluster_(&cluster) {}

  bool is_cluster() const { return cluster_ != nullptr; }

  // Calls `on_page` with each non-empty page of keys matching `pattern`, on
  // every node in turn (redis::ScanKeys per node, with its guarantees: a key
  // may be reported twice, keys added meanwhile may be missed). Keys of one
  // page live on one node. Stops at, and returns, the first error.
  absl::Status Scan(std::string_view pattern,
                    absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page);
  // The same on master i of the cluster only (a reader that skips a master
  // it cannot reach). REQUIRES: is_cluster(), i < masters().
  absl::Status ScanMaster(size_t i, std::string_view pattern,
                          absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page);

  // Reads the string value of every key and calls on_value(i, reply) for
  // keys[i] (a nil reply when missing or not a string), in key order.
  absl::Status Values(std::span<const std::string> keys,
                      absl::FunctionRef<void(size_t, const redisReply*)> on_value);

  // `command key` for every key (e.g. "TTL"), replies in key order; error
  // replies are returned as replies. In a cluster each key goes to the
  // master of its slot.
  absl::StatusOr<std::vector<Reply>> PerKey(std::string_view command, std::span<const std::string> keys);

  // One command about `key`, on the node serving it.
  absl::StatusOr<Reply> Command(std::string_view key, std::initializer_list<std::string_view> argv);

 private:
  Connection* conn_ = nullptr;
  Cluster* cluster_ = nullptr;
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_KEY_SPACE_H_
