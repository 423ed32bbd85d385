// The bridge's Redis side as the Server sees it: a thread that subscribes,
// primes and repairs, hands frames and canaries to a SubscriberSink, and says
// why delivery is down. Two implementations: Subscriber (one server, or the
// master the sentinels name) and ClusterSubscriber (every master of a Redis
// Cluster, docs/SPEC.md §9); MakeRedisFeed picks one from the Config.
// Thread-safety: Start/Stop from the owner; RequestStop, RequestCanary,
// DownReason and CanaryMissing from any thread.
#ifndef PHYSICS_BRIDGE_REDIS_FEED_H_
#define PHYSICS_BRIDGE_REDIS_FEED_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bridge/delivery.h"
#include "bridge/metrics.h"
#include "engine/redis/config.h"
#include "engine/redis/partition.h"

namespace physics::bridge {

struct SubscriberOptions {
  std::vector<std::string> channels;  // --channels entries: stream i+1
  std::string instance_id;            // redis::InstanceId(): heartbeat key and canary channel
  int partitions = redis::kDefaultPartitions;  // --partitions (cluster mode)
};

class RedisFeed {
 public:
  virtual ~RedisFeed() = default;
  virtual void Start() = 0;
  // Asks the thread to end and wakes it from any wait; returns at once.
  virtual void RequestStop() = 0;
  // RequestStop(), then joins the thread (bounded by the connect timeout).
  virtual void Stop() = 0;
  // Publishes a canary with `id`; when it comes back (through every
  // subscription), sink.OnCanary(id). Requests made while disconnected are
  // dropped (the caller times out, and DownReason() says why).
  virtual void RequestCanary(uint64_t id) = 0;
  // "" while connected and subscribed, else why not (for /healthz).
  virtual std::string DownReason() const = 0;
  // For a canary that did not come back in time: which subscription it is
  // missing from ("" when that is not known).
  virtual std::string CanaryMissing(uint64_t id) const = 0;
};

// A ClusterSubscriber for a redis-cluster:// Config, else a Subscriber.
std::unique_ptr<RedisFeed> MakeRedisFeed(redis::Config config, SubscriberOptions options,
                                         SubscriberSink& sink, BridgeMetrics& metrics);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_REDIS_FEED_H_
