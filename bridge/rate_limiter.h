// Per-client limit on incoming messages (--max-client-msgs-per-sec): a token
// bucket holding one second's worth, plus a flood verdict for a client that
// keeps sending at twice the limit, which the session closes with 1008.
// Not thread-safe: owned by one session on the io thread.
#ifndef PHYSICS_BRIDGE_RATE_LIMITER_H_
#define PHYSICS_BRIDGE_RATE_LIMITER_H_

#include <algorithm>
#include <cstdint>

namespace physics::bridge {

class RateLimiter {
 public:
  enum class Verdict {
    kAllow,
    kReject,       // over the limit: answer with an error frame
    kRejectQuiet,  // over the limit, already told this second: no reply
    kFlood,        // rejected more than `per_second` messages within a second: close
  };

  explicit RateLimiter(int64_t per_second)
      : rate_(std::max<int64_t>(per_second, 1)), tokens_(static_cast<double>(rate_)) {}

  // Judges one incoming message at steady time `now_ns`.
  Verdict Admit(int64_t now_ns) {
    if (last_ns_ != 0) {
      tokens_ = std::min(static_cast<double>(rate_),
                         tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_);
    }
    last_ns_ = now_ns;
    if (now_ns - window_start_ns_ >= 1'000'000'000) {
      window_start_ns_ = now_ns;
      rejected_in_window_ = 0;
    }
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return Verdict::kAllow;
    }
    if (++rejected_in_window_ > rate_) return Verdict::kFlood;
    return rejected_in_window_ == 1 ? Verdict::kReject : Verdict::kRejectQuiet;
  }

 private:
  int64_t rate_;
  double tokens_;
  int64_t last_ns_ = 0;
  int64_t window_start_ns_ = 0;
  int64_t rejected_in_window_ = 0;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_RATE_LIMITER_H_
