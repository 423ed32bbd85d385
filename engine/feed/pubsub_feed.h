// The pub/sub feed (--feed pubsub[:PATTERN], docs/SPEC.md §2, §4): PSUBSCRIBEs
// market.tick.* (namespaced) on its own connection and folds the JSON ticks
// as they arrive; loop ticks follow the wall clock, like the simulator.
// Pub/sub delivers at most once: ticks published while the engine is
// disconnected are lost (use --feed stream when that matters). While Redis is
// down the loop keeps ticking; the feed resubscribes with capped exponential
// backoff and logs once per state change. With a redis-cluster:// URL it
// subscribes on one master of the cluster (a PUBLISH reaches every node), the
// next one after a loss.
// Not thread-safe: polled by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_PUBSUB_FEED_H_
#define PHYSICS_ENGINE_FEED_PUBSUB_FEED_H_

#include <chrono>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "engine/feed/feed.h"
#include "engine/redis/backoff.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"

namespace physics::feed {

struct PubSubFeedOptions {
  std::string pattern = "market.tick.*";  // without the namespace
  absl::Duration connect_timeout = absl::Milliseconds(500);
};

class PubSubFeed final : public Feed {
 public:
  PubSubFeed(redis::Config config, PubSubFeedOptions options);

  // Folds every tick that arrives until `deadline` (waiting on the
  // subscriber socket), then returns kCloseTick; promptly when interrupted.
  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;

 private:
  // Connects and PSUBSCRIBEs when the backoff allows; false while down, or
  // with fatal_ set when Redis refused us for good (credentials, db index).
  bool EnsureSubscribed();
  // The server to subscribe on: config_, or with a cluster URL a master's
  // own Config (the masters taken in turn, one per attempt).
  absl::StatusOr<redis::Config> SubscribeTarget();
  void ConnectionLost(const absl::Status& why);
  void Handle(const redisReply* message, TickSink& sink);

  redis::Config config_;
  PubSubFeedOptions options_;
  std::string pattern_;  // namespaced
  std::optional<redis::Connection> conn_;
  std::optional<redis::Cluster> cluster_;  // cluster URL: the masters to pick from
  size_t next_master_ = 0;
  redis::Backoff backoff_;
  std::chrono::steady_clock::time_point next_attempt_{};
  bool subscribed_once_ = false;
  bool reported_down_ = false;
  absl::Status fatal_;
  schema::Tick tick_;        // reused: no allocation per message once grown
  std::string origin_text_;  // "pubsub CHANNEL", reused
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_PUBSUB_FEED_H_
