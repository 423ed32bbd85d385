// Keeps physics-top's SymbolTable current from Redis. On one server:
// SUBSCRIBE state_update on one connection, then SCAN + MGET physics:state:*
// on a second one (after subscribing, so no update falls between the two).
// On a Redis Cluster (docs/SPEC.md §9): one subscriber connection per master
// (checked with ROLE), SSUBSCRIBE to the partition channels whose slots it
// serves, then SCAN + GET physics:state:* on every master. When Redis goes
// away (or a master ends a subscription: sunsubscribe, an error reply) it
// says so, retries with capped backoff (a cluster: refreshes the slot map and
// subscribes everything afresh), and primes again once back.
// Not thread-safe: owned by physics-top's single thread.
#ifndef PHYSICS_TOOLS_TOP_STATE_SOURCE_H_
#define PHYSICS_TOOLS_TOP_STATE_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/redis/backoff.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/key_space.h"
#include "engine/redis/partition.h"
#include "tools/top/symbol_table.h"

namespace physics::top {

class StateSource {
 public:
  // `partitions`: the deployment's --partitions (cluster mode only).
  StateSource(redis::Config config, SymbolTable& table, int partitions = redis::kDefaultPartitions);
  StateSource(const StateSource&) = delete;
  StateSource& operator=(const StateSource&) = delete;

  // Connects, subscribes and primes when not connected and the backoff
  // allows (blocking up to about a second), then applies at most
  // `max_messages` of the messages that have arrived, without waiting.
  // Returns whether the table changed.
  bool Poll(absl::Time now, size_t max_messages = 50000);

  // The subscriptions' sockets (one, or one per cluster master), for poll();
  // empty while disconnected.
  std::vector<int> fds();
  // When Poll() should next be called to reconnect (InfiniteFuture while
  // connected).
  absl::Time next_attempt() const { return connected() ? absl::InfiniteFuture() : next_attempt_; }
  bool connected() const { return !subscriptions_.empty(); }
  // "" while connected and all messages parse; else one line for the screen.
  std::string status() const;

 private:
  absl::Status Connect();
  absl::Status ConnectCluster();
  absl::Status Prime(redis::KeySpace& keys);
  // Applies what has arrived on subscription i; an error when it ended.
  absl::Status Drain(size_t i, size_t& budget, bool& changed);

  redis::Config config_;
  SymbolTable& table_;
  redis::Partitioning partitioning_;
  std::optional<redis::Cluster> cluster_;  // cluster mode, kept across reconnects
  std::vector<redis::Connection> subscriptions_;
  std::vector<std::string> subscription_names_;  // host:port of each, for messages
  // As the bridge's: capped at 250 ms on a cluster, where nothing says when a
  // promoted replica enters the slot map (redis::ReconnectBackoff).
  redis::Backoff backoff_;
  absl::Time next_attempt_ = absl::InfinitePast();
  std::string last_error_;
  uint64_t bad_messages_ = 0;
  std::string last_bad_message_;
};

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_STATE_SOURCE_H_
