#include "bridge/redis_feed.h"

#include <utility>

#include "bridge/cluster_subscriber.h"
#include "bridge/subscriber.h"

namespace physics::bridge {

std::unique_ptr<RedisFeed> MakeRedisFeed(redis::Config config, SubscriberOptions options,
                                         SubscriberSink& sink, BridgeMetrics& metrics) {
  if (config.uses_cluster()) {
    return std::make_unique<ClusterSubscriber>(std::move(config), std::move(options), sink, metrics);
  }
  return std::make_unique<Subscriber>(std::move(config), std::move(options), sink, metrics);
}

}  // namespace physics::bridge
