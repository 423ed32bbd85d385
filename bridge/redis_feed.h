// The bridge's Redis side as the Server sees it: a thread that subscribes,
// primes and repairs, hands frames and canaries to a SubscriberSink, and says
// why delivery is down. Two implementations: Subscriber (one server, or the
// master the sentinels name) and ClusterSubscriber (every master of a Redis
// Cluster, docs/SPEC.md §9); MakeRedisFeed picks one from the Config.
// RedisFeed holds what both share: the thread, its stop flag and wake fd,
// canary requests and the down reason.
// Thread-safety: Start/Stop from the owner; RequestStop, RequestCanary,
// DownReason and CanaryMissing from any thread.
#ifndef PHYSICS_BRIDGE_REDIS_FEED_H_
#define PHYSICS_BRIDGE_REDIS_FEED_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "bridge/delivery.h"
#include "bridge/metrics.h"
#include "bridge/push_router.h"
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
  virtual ~RedisFeed();  // closes the wake fd; the derived class has called Stop()
  RedisFeed(const RedisFeed&) = delete;
  RedisFeed& operator=(const RedisFeed&) = delete;

  // Starts the "bridge-redis" thread, which runs Run().
  void Start();
  // Asks the thread to end and wakes it from any wait; returns at once.
  void RequestStop();
  // RequestStop(), then joins the thread (bounded by the connect timeout).
  void Stop();
  // Publishes a canary with `id`; when it comes back (through every
  // subscription), sink.OnCanary(id). Requests made while disconnected are
  // dropped (the caller times out, and DownReason() says why).
  void RequestCanary(uint64_t id);
  // "" while connected and subscribed, else why not (for /healthz).
  std::string DownReason() const;
  // For a canary that did not come back in time: which subscription it is
  // missing from ("" when that is not known).
  virtual std::string CanaryMissing(uint64_t /*id*/) const { return ""; }

 protected:
  explicit RedisFeed(std::string initial_down_reason);

  // The thread's body: until stop_, connect, subscribe, serve.
  virtual void Run() = 0;
  // Shuts down the thread's sockets (never closes them), so a blocking call
  // returns at once.
  virtual void ShutdownSockets() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  // Sets the reason; a non-empty one drops the canary requests.
  void SetDown(std::string reason);
  // Ends the thread's wait on wake_fd_.
  void Wake();
  // Takes the canary requests made so far.
  std::vector<uint64_t> TakeCanaryRequests();
  bool stopping() const;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::string down_reason_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> canary_requests_ ABSL_GUARDED_BY(mu_);
  // Canary requests are taken only while subscribed.
  std::atomic<bool> connected_{false};
  // An eventfd that ends the thread's wait for messages: written by
  // RequestCanary() and RequestStop(), so the thread sleeps until a message,
  // a request or the next heartbeat instead of waking to look for work.
  const int wake_fd_;

 private:
  std::thread thread_;
};

// The router for `config`'s namespace and `options`' channels, with the
// private canary channel Key("physics-bridge:canary:<instance_id>").
std::unique_ptr<PushRouter> MakePushRouter(const redis::Config& config, const SubscriberOptions& options);

// A ClusterSubscriber for a redis-cluster:// Config, else a Subscriber.
std::unique_ptr<RedisFeed> MakeRedisFeed(redis::Config config, SubscriberOptions options,
                                         SubscriberSink& sink, BridgeMetrics& metrics);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_REDIS_FEED_H_
