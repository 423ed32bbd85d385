// Keeps physics-top's SymbolTable current from Redis: SUBSCRIBE state_update
// on one connection, then SCAN + MGET physics:state:* on a second one (after
// subscribing, so no update falls between the two). When Redis goes away it
// says so, retries with capped backoff, and primes again once back.
// Not thread-safe: owned by physics-top's single thread.
#ifndef PHYSICS_TOOLS_TOP_STATE_SOURCE_H_
#define PHYSICS_TOOLS_TOP_STATE_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "engine/redis/backoff.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "tools/top/symbol_table.h"

namespace physics::top {

class StateSource {
 public:
  StateSource(redis::Config config, SymbolTable& table);
  StateSource(const StateSource&) = delete;
  StateSource& operator=(const StateSource&) = delete;

  // Connects, subscribes and primes when not connected and the backoff
  // allows (blocking up to about a second), then applies at most
  // `max_messages` of the messages that have arrived, without waiting.
  // Returns whether the table changed.
  bool Poll(absl::Time now, size_t max_messages = 50000);

  // The subscription's socket, for poll(); -1 while disconnected.
  int fd();
  // When Poll() should next be called to reconnect (InfiniteFuture while
  // connected).
  absl::Time next_attempt() const { return connected() ? absl::InfiniteFuture() : next_attempt_; }
  bool connected() const { return subscription_.has_value(); }
  // "" while connected and all messages parse; else one line for the screen.
  std::string status() const;

 private:
  absl::Status Connect();
  absl::Status Prime();

  redis::Config config_;
  SymbolTable& table_;
  std::optional<redis::Connection> subscription_;
  redis::Backoff backoff_{absl::Milliseconds(250), absl::Seconds(5)};
  absl::Time next_attempt_ = absl::InfinitePast();
  std::string last_error_;
  uint64_t bad_messages_ = 0;
  std::string last_bad_message_;
};

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_STATE_SOURCE_H_
