// The liveness key a service refreshes in Redis (docs/SPEC.md §2):
// `SET [ns:]ops:hb:{service}:{id} 1 EX 30`, every 10 s (an engine shard
// writes `shard I/N` instead of `1`, docs/SPEC.md §9). The owner asks Due()
// on its own schedule, appends the SET to the pipeline it is about to send
// anyway, and calls Written() once that pipeline succeeded, so a beat missed
// while Redis is down simply goes out with the next successful write.
// Not thread-safe: owned by the thread that owns the pipeline.
//
//   Heartbeat hb(config, "engine", InstanceId());
//   if (hb.Due(now)) hb.Append(pipeline);
//   if (pipeline.Execute(conn).ok()) hb.Written(now);
#ifndef PHYSICS_ENGINE_REDIS_HEARTBEAT_H_
#define PHYSICS_ENGINE_REDIS_HEARTBEAT_H_

#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include "engine/redis/config.h"
#include "engine/redis/pipeline.h"

namespace physics::redis {

// "{hostname}-{pid}": names this process in heartbeat keys and as a stream
// consumer, unique among live processes.
std::string InstanceId();

class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kPeriod{10};
  static constexpr std::chrono::seconds kTtl{30};

  // Key: config.Key("ops:hb:{service}:{id}"); its value `value`.
  Heartbeat(const Config& config, std::string_view service, std::string_view id,
            std::string_view value = "1");

  // True when no beat has been written yet, or the last one is kPeriod old.
  bool Due(Clock::time_point now) const { return now >= next_; }
  // When Due() turns true (min() before the first beat).
  Clock::time_point next_due() const { return next_; }
  // Appends SET key value EX 30.
  void Append(Pipeline& pipeline) const;
  // The SET and the DEL, for a pipeline of another kind (a cluster's).
  std::array<std::string_view, 5> SetArgv() const;
  std::array<std::string_view, 2> RemoveArgv() const { return {"DEL", key_}; }
  // The pipeline holding the beat appended at `sent` succeeded.
  void Written(Clock::time_point sent) { next_ = sent + kPeriod; }
  // Appends DEL key: an orderly stop shows up at once instead of after the TTL.
  void AppendRemove(Pipeline& pipeline) const;

  const std::string& key() const { return key_; }

 private:
  std::string key_;
  std::string value_;
  Clock::time_point next_ = Clock::time_point::min();
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_HEARTBEAT_H_
