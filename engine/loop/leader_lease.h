// The leader lease's state machine (docs/SPEC.md §9, docs/engine.md "Standby
// and fencing"), without I/O: whether this engine leads, and when it may send
// another fenced transaction. The writer owns the Redis side (SET NX PX, the
// standing WATCH); this class owns the clock rule that makes the WATCH chain
// sufficient: a transaction is sent only while the newest renewal whose
// success was read back is younger than lease - margin (margin = lease / 4).
// Not thread-safe: owned by the tick thread.
#ifndef PHYSICS_ENGINE_LOOP_LEADER_LEASE_H_
#define PHYSICS_ENGINE_LOOP_LEADER_LEASE_H_

#include <chrono>

namespace physics::loop {

class LeaderLease {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LeaderLease(Clock::duration lease) : lease_(lease) {}

  bool leading() const { return leading_; }
  Clock::duration lease() const { return lease_; }

  // The claim sent at `sent` came back ours (SET NX PX succeeded, or the key
  // still holds our id). Returns true when this starts a leadership.
  bool Acquired(Clock::time_point sent);
  // A fenced transaction (ending in a renewal) goes out now.
  void Sent(Clock::time_point now) { last_sent_ = now; }
  // Every transaction sent so far was read back executed: the lease is ours
  // until at least the last one's send time + lease.
  void Confirmed() { confirmed_ = last_sent_; }
  // An EXEC came back null, or the connection (and its WATCH) is gone while
  // leading. Returns true the first time, so the caller logs once.
  bool Lost();
  // Stops leading on an orderly exit (the caller deletes the key).
  void Released() { leading_ = false; }

  // A leader may send another transaction now without first reading back
  // the outstanding replies.
  bool MaySend(Clock::time_point now) const {
    return leading_ && now < confirmed_ + lease_ - Margin();
  }
  // A leader with nothing to write renews this often (lease / 4), so the
  // lease never lapses while it lives, idle feed or not.
  bool RenewalDue(Clock::time_point now) const {
    return leading_ && now >= confirmed_ + lease_ / 4;
  }

 private:
  Clock::duration Margin() const { return lease_ / 4; }

  Clock::duration lease_;
  bool leading_ = false;
  Clock::time_point confirmed_{};
  Clock::time_point last_sent_{};
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_LEADER_LEASE_H_
