// Sends ticks to the engine's live feeds: PUBLISH JSON ticks on
// market.tick.{SYM} (--feed pubsub) or XADD their fields to market:ticks
// (--feed stream), namespaced like every key, one pipeline per batch. Can
// inject invalid ticks (bad price, bad symbol, unparsable, missing price) to
// exercise the engine's rejection path and dead-letter stream.
// Partitioned streams (docs/SPEC.md §9, docs/engine.md "### stream"): with
// `partitions` > 0 each tick goes to its symbol's partition stream
// KEY:{tag} (redis::Partitioning::Stream); on a Redis Cluster always
// (pipelined per master through a ClusterPipeline; only the ticks that did
// not land are sent again). Pub/sub on a cluster: PUBLISH through one master
// (the one serving slot 0), which the cluster copies to every node, so an
// engine subscribed on any master gets the ticks (an upstream feed, not the
// hot path); a lost master reopens the cluster (a promoted replica takes over).
// Not thread-safe: used by the publishing thread.
#ifndef PHYSICS_TOOLS_PUBLISH_PUBLISHER_H_
#define PHYSICS_TOOLS_PUBLISH_PUBLISHER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/feed/feed.h"
#include "engine/redis/backoff.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/partition.h"
#include "engine/redis/pipeline.h"
#include "engine/schema/tick.h"

namespace physics::publish {

struct Target {
  enum class Kind { kPubSub, kStream };
  Kind kind = Kind::kStream;
  std::string name;  // channel prefix ("market.tick.") or stream key, without the namespace
};

// "pubsub[:PREFIX]" (channel PREFIX{SYM}, default market.tick.) or
// "stream[:KEY]" (default market:ticks). kInvalidArgument otherwise.
absl::StatusOr<Target> ParseTarget(std::string_view text);

class Publisher {
 public:
  // `invalid_every` > 0: after every that many ticks, one invalid tick too.
  // `partitions` > 0 with the stream target: one stream per partition.
  // REQUIRES: partitions > 0 for the stream target on a redis-cluster:// config.
  Publisher(redis::Config config, Target target, int64_t invalid_every, int partitions = 0);

  // Queues one tick (and maybe an invalid one after it) for the next Send().
  void Add(const schema::Tick& tick);
  size_t queued() const { return queued_.size(); }
  // Sends the queued ticks in one pipeline (on a cluster, one per master). While Redis is unreachable it
  // retries with backoff (logging once), so a stream gets every tick at
  // least once; false when `stop` was requested first (the batch is dropped).
  bool Send(const feed::Interrupt& stop);

  int64_t published() const { return published_; }
  int64_t invalid() const { return invalid_; }
  std::string Describe() const;

 private:
  struct Message {
    schema::Tick tick;
    int invalid_kind = -1;  // -1: the tick as it is
  };
  // Appends the message's command to the pipeline; `tag` names it in the
  // cluster pipeline (its index in queued_).
  void Encode(const Message& m, uint32_t tag);
  absl::Status SendOnce();
  // The partitioned streams on a cluster: keeps in queued_ only the ticks
  // that did not land.
  absl::Status SendToClusterStreams();
  // Counts the messages as sent.
  void Count(const Message& m) { ++(m.invalid_kind < 0 ? published_ : invalid_); }
  // The connection to send through (opened when needed): the server, or on
  // a cluster the master serving slot 0.
  absl::StatusOr<redis::Connection*> Connect();

  redis::Config config_;
  Target target_;
  std::string key_;  // namespaced stream key or channel prefix
  int64_t invalid_every_;
  int64_t added_ = 0;
  std::vector<Message> queued_;
  std::optional<redis::Connection> conn_;
  std::optional<redis::Cluster> cluster_;  // redis-cluster:// only
  redis::Pipeline pipeline_;
  std::optional<redis::Partitioning> partitioning_;  // partitioned streams only
  std::vector<std::string> partition_keys_;          // KEY:{tag} per partition
  redis::ClusterPipeline cluster_pipeline_;
  std::vector<Message> unsent_;                      // reused by SendToClusterStreams
  redis::Backoff backoff_;
  bool reported_down_ = false;
  int64_t published_ = 0;
  int64_t invalid_ = 0;
  std::string scratch_;  // JSON payload / channel / timestamp, reused
};

}  // namespace physics::publish

#endif  // PHYSICS_TOOLS_PUBLISH_PUBLISHER_H_
