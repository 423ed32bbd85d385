#include "engine/redis/backoff.h"

#include <algorithm>

namespace physics::redis {

Backoff::Backoff(absl::Duration initial, absl::Duration cap)
    : initial_(std::max(initial, absl::Milliseconds(1))),
      cap_(std::max(cap, initial_)),
      next_(initial_) {}

absl::Duration Backoff::Next() {
  const absl::Duration delay = next_;
  next_ = std::min(next_ * 2, cap_);
  return delay;
}

void Backoff::Reset() { next_ = initial_; }

Backoff ReconnectBackoff(const Config& config) {
  return config.uses_sentinels() || config.uses_cluster() ? Backoff(absl::Milliseconds(100), kSentinelRetryCap) : Backoff();
}

}  // namespace physics::redis
