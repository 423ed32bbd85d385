// Caps one kind of log record (a rejected tick, a bad message) at a number a
// second, counting what it holds back so that the next record that passes in
// a later second can say how many were dropped.
// Not thread-safe: one owner thread.
#ifndef PHYSICS_ENGINE_LOG_THROTTLE_H_
#define PHYSICS_ENGINE_LOG_THROTTLE_H_

#include <chrono>
#include <cstdint>

namespace physics::log {

class Throttle {
 public:
  explicit Throttle(int64_t per_second) : per_second_(per_second) {}

  int64_t per_second() const { return per_second_; }

  // Whether a record at `now` may be written. Sets `held_back` to the
  // number of records held back in the last second that had any, once, when a
  // later second starts (else 0).
  bool Admit(std::chrono::steady_clock::time_point now, int64_t& held_back) {
    held_back = 0;
    const int64_t second = now.time_since_epoch() / std::chrono::seconds(1);
    if (second != second_) {
      held_back = held_back_;
      second_ = second;
      admitted_ = 0;
      held_back_ = 0;
    }
    if (admitted_ >= per_second_) {
      ++held_back_;
      return false;
    }
    ++admitted_;
    return true;
  }

 private:
  int64_t per_second_;
  int64_t second_ = 0;  // steady-clock second of the current window
  int64_t admitted_ = 0;
  int64_t held_back_ = 0;
};

}  // namespace physics::log

#endif  // PHYSICS_ENGINE_LOG_THROTTLE_H_
