// The bridge's Redis side: a thread that subscribes to state_update (and the
// --channels), hands each message to the PushRouter and acts on its decision
// (forward the frame, repair a symbol, answer a canary, count), primes and
// repairs the latest state per symbol from physics:state:* (SCAN + MGET at
// start and after every reconnect, GET after a seq gap), writes the ops:hb
// heartbeat, and reconnects with capped exponential backoff (at once when
// the sentinels of a redis-sentinel:// URL announce a new master). The
// Redis Cluster counterpart is ClusterSubscriber.
// Threads: one "bridge-redis" thread (RedisFeed's) owns both Redis
// connections; RequestStop(), RequestCanary() and DownReason() may be called
// from any thread. The sink is called on that thread.
#ifndef PHYSICS_BRIDGE_SUBSCRIBER_H_
#define PHYSICS_BRIDGE_SUBSCRIBER_H_

#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/frame.h"
#include "bridge/metrics.h"
#include "bridge/delivery.h"
#include "bridge/redis_feed.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/pipeline.h"

namespace physics::bridge {

class Subscriber final : public RedisFeed {
 public:
  Subscriber(redis::Config config, SubscriberOptions options, SubscriberSink& sink,
             BridgeMetrics& metrics);
  ~Subscriber() override;  // Stop()
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

 private:
  // Canaries go out on the private channel Key("physics-bridge:canary:<id>").
  void Run() override;
  void ShutdownSockets() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens both connections, subscribes, then primes from physics:state:*.
  absl::Status Connect();
  // Reads and handles messages until an error or a stop request.
  absl::Status Serve();
  absl::Status Subscribe();
  absl::Status Prime();
  absl::Status RepairSymbol(const std::string& symbol);
  absl::Status ServeCanaries();
  absl::Status MaybeHeartbeat();
  // Master switches the sentinels announced so far (0 without sentinels).
  uint64_t Switches() const;
  // Sleeps `delay`, ending early when the sentinels announce a new master
  // (Switches() moves past `switches_at_loss`: no reason to wait for it) or
  // on RequestStop(). False when stopping.
  bool WaitToRetry(absl::Duration delay, uint64_t switches_at_loss);
  void CloseConnections();

  const redis::Config config_;
  const SubscriberOptions options_;
  BridgeMetrics& metrics_;

  // Owned by the subscriber thread; replaced only under mu_ so
  // ShutdownSockets() can interrupt a blocking call.
  std::optional<redis::Connection> sub_;
  std::optional<redis::Connection> cmd_;
  Delivery delivery_;  // canary channel Key("physics-bridge:canary:<id>")
  redis::Heartbeat heartbeat_;        // ops:hb:bridge:<id>, as the engine's ops:hb:engine:<id>
  redis::Pipeline heartbeat_pipeline_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_SUBSCRIBER_H_
