// Keeps physics-top's SymbolTable current from Redis. On one server:
// SUBSCRIBE state_update on one connection, then SCAN + MGET physics:state:*
// on a second one (after subscribing, so no update falls between the two).
// On a Redis Cluster (docs/SPEC.md §9): one subscriber connection per master
// (checked with ROLE), SSUBSCRIBE to the partition channels whose slots it
// serves, then SCAN + GET physics:state:* on every master. When Redis goes
// away (or a master ends a subscription: sunsubscribe, an error reply) it
// says so, retries with capped backoff (a cluster: refreshes the slot map and
// subscribes everything afresh), and primes again once back. A cluster
// master that cannot be reached when subscribing (down, not failed over yet)
// is left out: the others are followed, the status line names it, and every
// second the slot map is read again and the masters not followed yet are
// subscribed and primed (the subscriptions that did not change are kept).
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
  // connected to every master).
  absl::Time next_attempt() const {
    return connected() && unreachable_.empty() ? absl::InfiniteFuture() : next_attempt_;
  }
  // Subscribed (on a cluster: to at least one master).
  bool connected() const { return !subscriptions_.empty(); }
  // "" while connected to every master and all messages parse; else one line
  // for the screen.
  std::string status() const;

 private:
  absl::Status Connect();
  absl::Status ConnectCluster();
  // One subscriber connection and what it carries.
  struct Subscription {
    redis::Connection conn;
    std::string name;             // host:port (one server: the URL), for messages
    std::vector<int> partitions;  // cluster: the partitions whose channels it follows
  };
  // A subscriber connection to master i SSUBSCRIBEd to `partitions`' channels.
  absl::StatusOr<redis::Connection> SubscribeMaster(size_t i, const std::vector<int>& partitions);
  // Reads physics:state:* into the table: every key of `keys`, or only those
  // of the cluster masters named.
  absl::Status Prime(redis::KeySpace& keys, const std::vector<size_t>* masters = nullptr);
  // Applies what has arrived on subscription i; an error when it ended.
  absl::Status Drain(size_t i, size_t& budget, bool& changed);

  redis::Config config_;
  SymbolTable& table_;
  redis::Partitioning partitioning_;
  std::optional<redis::Cluster> cluster_;  // cluster mode, kept across reconnects
  std::vector<Subscription> subscriptions_;
  // Cluster masters not subscribed, each "why" (naming host:port), while
  // the others are (then retried every kUnreachableRetry).
  std::vector<std::string> unreachable_;
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
