// Delays between reconnect attempts (docs/SPEC.md §7): capped exponential backoff,
// 100 ms, 200 ms, 400 ms, ... up to 5 s by default, no jitter (one engine and one
// bridge per Redis, so there is no herd to spread out).
// Not thread-safe: owned by the thread that reconnects.
//
//   Backoff backoff;
//   while (!(conn = Connection::Open(...)).ok()) absl::SleepFor(backoff.Next());
//   backoff.Reset();
#ifndef PHYSICS_ENGINE_REDIS_BACKOFF_H_
#define PHYSICS_ENGINE_REDIS_BACKOFF_H_

#include "absl/time/time.h"
#include "engine/redis/config.h"

namespace physics::redis {

class Backoff {
 public:
  // `initial` is clamped to at least 1 ms, `cap` to at least `initial`.
  explicit Backoff(absl::Duration initial = absl::Milliseconds(100),
                   absl::Duration cap = absl::Seconds(5));

  // The delay to wait before the next attempt: initial, then doubled per call
  // until it reaches cap.
  absl::Duration Next();
  // Call after a success: the next delay is `initial` again.
  void Reset();

 private:
  absl::Duration initial_;
  absl::Duration cap_;
  absl::Duration next_;
};

// The longest wait between reconnect attempts through Redis Sentinel or to
// a Redis Cluster.
inline constexpr absl::Duration kSentinelRetryCap = absl::Milliseconds(250);

// The reconnect backoff for `config`: the default for one server; for a
// redis-sentinel:// or redis-cluster:// URL capped at kSentinelRetryCap. An
// attempt there costs a question to a sentinel or a CLUSTER SHARDS, and
// nothing announces when the promoted replica is ready: through Sentinel the
// sentinel leading a failover names it up to ~2 s before +switch-master; in
// a cluster it enters the slot map a node timeout + an election after the
// kill (the bridge resubscribed 3.8-4.8 s after a SIGKILL with this cap,
// 6.3 s with the 5 s one).
Backoff ReconnectBackoff(const Config& config);

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_BACKOFF_H_
