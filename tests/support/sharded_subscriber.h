// A subscriber to every partition channel of a Redis Cluster (docs/SPEC.md
// §9): SSUBSCRIBE on the master serving each channel's slot, one connection
// and reader thread per master, every message kept per symbol, in arrival
// order. For tests that check what a bridge would see.
// Thread-safe: the readers fill it, the test thread reads copies.
#ifndef PHYSICS_TESTS_SUPPORT_SHARDED_SUBSCRIBER_H_
#define PHYSICS_TESTS_SUPPORT_SHARDED_SUBSCRIBER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/redis/connection.h"
#include "engine/redis/partition.h"
#include "tests/support/cluster_set.h"

namespace physics::testing {

class ShardedSubscriber {
 public:
  // Subscribed once constructed (channels as the cluster serves them now).
  ShardedSubscriber(ClusterSet& cluster, const redis::Partitioning& parts);
  ~ShardedSubscriber();
  ShardedSubscriber(const ShardedSubscriber&) = delete;
  ShardedSubscriber& operator=(const ShardedSubscriber&) = delete;

  // symbol -> its messages (the JSON payloads), in arrival order.
  std::map<std::string, std::vector<std::string>> messages();
  int64_t count();

 private:
  struct Reader {
    std::optional<redis::Connection> conn;
    std::thread thread;
  };
  void Read(Reader& r);

  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Reader>> readers_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> by_symbol_;
  int64_t count_ = 0;
};

// The "seq" of a state message or stored state JSON; 0 when absent.
int64_t SeqOf(std::string_view json);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_SHARDED_SUBSCRIBER_H_
