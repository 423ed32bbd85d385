// Sends ticks to the engine's live feeds: PUBLISH JSON ticks on
// market.tick.{SYM} (--feed pubsub) or XADD their fields to market:ticks
// (--feed stream), namespaced like every key, one pipeline per batch. Can
// inject invalid ticks (bad price, bad symbol, unparsable, missing price) to
// exercise the engine's rejection path and dead-letter stream.
// On a Redis Cluster (docs/SPEC.md §9) pub/sub only: PUBLISH through one
// master (the one serving slot 0), which the cluster copies to every node, so
// an engine subscribed on any master gets the ticks (an upstream feed, not the
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
  Publisher(redis::Config config, Target target, int64_t invalid_every);

  // Queues one tick (and maybe an invalid one after it) for the next Send().
  void Add(const schema::Tick& tick);
  size_t queued() const { return queued_.size(); }
  // REQUIRES: not the stream target on a redis-cluster:// config (main
  // refuses it). Sends the queued ticks in one pipeline. While Redis is unreachable it
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
  void Encode(const Message& m);
  absl::Status SendOnce();
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
  redis::Backoff backoff_;
  bool reported_down_ = false;
  int64_t published_ = 0;
  int64_t invalid_ = 0;
  std::string scratch_;  // JSON payload / channel / timestamp, reused
};

}  // namespace physics::publish

#endif  // PHYSICS_TOOLS_PUBLISH_PUBLISHER_H_
