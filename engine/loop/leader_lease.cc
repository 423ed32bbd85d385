#include "engine/loop/leader_lease.h"

namespace physics::loop {

bool LeaderLease::Acquired(Clock::time_point sent) {
  const bool started = !leading_;
  leading_ = true;
  last_sent_ = sent;
  confirmed_ = sent;
  return started;
}

bool LeaderLease::Lost() {
  const bool was_leading = leading_;
  leading_ = false;
  return was_leading;
}

}  // namespace physics::loop
