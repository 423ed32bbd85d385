// The bridge's Redis side on a Redis Cluster (docs/SPEC.md §9): one
// subscriber connection per master, SSUBSCRIBEd to the partition channels
// whose slots it serves and to a canary channel of its own; priming by SCAN
// on every master; repairs, canaries and the heartbeat through the Cluster
// client. A `sunsubscribe` (the slot moved, or its master failed over), a
// lost connection or an error reply makes it refresh the topology,
// resubscribe what moved and re-prime every symbol; clients stay connected.
// A master that cannot be subscribed is left without a feed (DownReason()
// names it) while the others deliver, and is tried again every 100-250 ms,
// less often when the attempts take long (a stalled master): at most a
// third of the thread's time goes to them.
// Threads: one "bridge-redis" thread owns the Cluster and every subscriber
// connection and waits on all of them with one poll(); RequestStop(),
// RequestCanary(), DownReason() and CanaryMissing() may be called from any
// thread. The sink is called on that thread.
#ifndef PHYSICS_BRIDGE_CLUSTER_SUBSCRIBER_H_
#define PHYSICS_BRIDGE_CLUSTER_SUBSCRIBER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/delivery.h"
#include "bridge/metrics.h"
#include "bridge/redis_feed.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/partition.h"

namespace physics::bridge {

class ClusterSubscriber final : public RedisFeed {
 public:
  // REQUIRES: config.uses_cluster().
  ClusterSubscriber(redis::Config config, SubscriberOptions options, SubscriberSink& sink,
                    BridgeMetrics& metrics);
  ~ClusterSubscriber() override;  // Stop()
  ClusterSubscriber(const ClusterSubscriber&) = delete;
  ClusterSubscriber& operator=(const ClusterSubscriber&) = delete;

  // Canaries are SPUBLISHed on every master's canary channel; sink.OnCanary(id)
  // once one came back through every master's subscription.
  // Names the masters canary `id` is missing from: "master H:P does not
  // answer SPUBLISH" (the thread is still waiting on it), else "no canary
  // back through master H:P[, ...]", else "canary not yet sent to master
  // H:P[, ...]"; "" when `id` is not pending (not sent, or forgotten).
  std::string CanaryMissing(uint64_t id) const override;

 private:
  // One master's subscription: what it should carry and its connection
  // (nullopt until subscribed, after it lost a channel, or while its master
  // cannot be reached: `unreachable` says why).
  struct MasterFeed {
    redis::HostPort address;
    std::vector<int> partitions;  // whose channel's slot this master serves
    std::string canary_channel;   // [ns:]physics-bridge:canary:<id>:{tag}, a slot of this master
    // Also the --channels: plain pub/sub is cluster-wide, so one reachable
    // master's connection carries them.
    bool extra_channels = false;
    std::optional<redis::Connection> conn;
    std::string unreachable;  // the last subscription attempt's error; "" once subscribed

    bool SameSubscriptions(const MasterFeed& other) const;
  };
  // Canaries sent and not yet back through every master.
  struct PendingCanary {
    enum class Leg : uint8_t { kNotSent, kPublishing, kPublished, kBack };
    uint64_t id;
    std::vector<Leg> legs;  // per feed
  };

  void Run() override;
  void ShutdownSockets() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opens the Cluster or refreshes its topology, plans the feeds, keeps those
  // whose master and channels did not change, (re)subscribes the others, then
  // primes when anything was (re)subscribed since the last prime. A master
  // that cannot be subscribed (or scanned) is left without a feed; an error
  // only when no master has one (or credentials are refused).
  absl::Status Sync();
  absl::Status SubscribeFeed(MasterFeed& feed);
  // SUBSCRIBE / PSUBSCRIBE to the --channels on `feed`'s connection.
  absl::Status SubscribeExtraChannels(MasterFeed& feed);
  // Leaves feed i without a connection, for `why`.
  void DropFeed(size_t i, std::string why);
  // "" when every master has a feed, else the masters without one and why.
  std::string MissingFeeds() const;
  // Whether `key`'s slot is served by a master without a feed (its commands
  // would fail or wait: they are skipped until it is back and primed).
  bool OnMissingMaster(std::string_view key) const;
  // Reads and handles messages until an error, a sunsubscribe or a stop
  // request (an error status), or until `resync_at` (OK: time to try the
  // masters without a feed again).
  absl::Status Serve(absl::Time resync_at);
  // Waits until a subscriber socket or the wake fd is readable, or `wait` passed.
  absl::Status WaitReadable(absl::Duration wait);
  // Handles the replies waiting on feed i (at most a batch's worth).
  absl::Status Drain(size_t i);
  absl::Status Prime();
  absl::Status RepairSymbol(const std::string& symbol);
  absl::Status ServeCanaries();
  // Records how canary `id` fares on feed i; returns whether it is back
  // through every feed (it is then forgotten).
  bool SetCanaryLeg(uint64_t id, size_t feed, PendingCanary::Leg leg);
  absl::Status MaybeHeartbeat();
  bool WaitToRetry(absl::Duration delay);
  // RedisFeed::SetDown, and the canaries out are forgotten.
  void SetDown(std::string reason);

  const redis::Config config_;
  const SubscriberOptions options_;
  SubscriberSink& sink_;
  BridgeMetrics& metrics_;
  const redis::Partitioning partitioning_;
  const std::vector<std::string> partition_channels_;  // by partition, as named in Redis
  Delivery delivery_;
  redis::Heartbeat heartbeat_;  // written with Cluster::Command
  std::optional<redis::Cluster> cluster_;
  bool prime_needed_ = true;
  // Time the last Sync spent on subscription attempts that failed.
  absl::Duration failed_attempts_;

  // Owned by the subscriber thread, which reads them without the lock;
  // changed only under mu_, so ShutdownSockets() can reach the sockets and
  // CanaryMissing() can name the masters.
  std::vector<MasterFeed> feeds_;
  std::deque<PendingCanary> canaries_out_ ABSL_GUARDED_BY(mu_);
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_CLUSTER_SUBSCRIBER_H_
