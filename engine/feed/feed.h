// Where market ticks come from (docs/SPEC.md §4). A Feed hands raw ticks to a
// TickSink, which validates and folds them; the tick loop decides when a loop
// tick closes. Not thread-safe: a feed is polled by the tick thread only.
#ifndef PHYSICS_ENGINE_FEED_FEED_H_
#define PHYSICS_ENGINE_FEED_FEED_H_

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/schema/tick.h"

namespace physics::feed {

// Where a tick came from, for the rejection log line ("csv data.csv line 17").
struct TickOrigin {
  std::string_view source;
  int64_t line = 0;  // 0 when the source has no lines
};

class TickSink {
 public:
  virtual ~TickSink() = default;
  // Folds a tick into its symbol's pending observation.
  // REQUIRES: schema::ValidateTick(tick) succeeded (see Deliver).
  virtual void Accept(const schema::Tick& tick) = 0;
  // Logs and counts a tick that was unparsable or invalid; it is dropped and
  // never touches a window.
  virtual void Reject(const TickOrigin& origin, const absl::Status& why) = 0;
};

// The one validation path every feed uses: validates (normalising the
// symbol), then folds the tick or rejects it. Returns whether it was folded.
inline bool Deliver(schema::Tick& tick, const TickOrigin& origin, TickSink& sink) {
  if (absl::Status s = schema::ValidateTick(tick); !s.ok()) {
    sink.Reject(origin, s);
    return false;
  }
  sink.Accept(tick);
  return true;
}

// The event-time loop tick a tick belongs to (csv replay, stream): its
// timestamp's bucket floor(timestamp * hz), docs/SPEC.md §4.
inline int64_t EventBucket(schema::EpochMicros timestamp, double hz) {
  return static_cast<int64_t>(std::floor(static_cast<long double>(timestamp) * hz / 1e6L));
}

enum class PollResult {
  kCloseTick,   // the loop tick is over: fold, compute and write now
  kReplayTick,  // warm start: close and compute a loop tick whose state an
                // earlier run already wrote; it is written again only if
                // older state is still unwritten (so nothing is published twice)
  kIdle,        // nothing to close yet (quiet stream, Redis down): the loop
                // only retries unwritten state and the heartbeat
  kEnd,         // no more data will come (csv end of file)
};

using SteadyTime = std::chrono::steady_clock::time_point;

class Feed {
 public:
  virtual ~Feed() = default;
  // Delivers ticks to `sink` until the current loop tick should close.
  // Wall-clock feeds return kCloseTick at `deadline`; event-time feeds return
  // it when the next tick belongs to a later bucket, and may return kIdle at
  // `deadline` while no data comes (live event-time feeds).
  // `interrupted` is polled while waiting; when it turns true, return
  // promptly: kCloseTick, or kIdle from a feed whose next run resumes the
  // open loop tick (stream). An error status is fatal for the feed.
  virtual absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                          const class Interrupt& interrupted) = 0;
  // True when loop ticks follow the data's timestamps (csv replay, stream).
  virtual bool event_time() const { return false; }
  // Called when the writes of every loop tick closed so far have reached
  // Redis and nothing computed is left unwritten. A feed that acknowledges
  // its input (stream: XACK) does it here, so an input is acknowledged only
  // once its effect is stored (at-least-once).
  virtual void OnWritten() {}
  // Lease mode (docs/SPEC.md §9): this engine has just taken the leader
  // lease. A feed that followed its input without consuming it while
  // standing by (stream) starts consuming it here, and asks `still_leading`
  // before each read that takes input (false: the lease is gone, take
  // nothing more, return kIdle); others ignore it. `still_leading` must
  // outlive the feed's use of it.
  virtual void Lead(std::function<bool()> still_leading) { (void)still_leading; }
  // Lease mode: true when this feed's input determines every symbol's seq
  // exactly (a stream followed from its very first entry), so a takeover
  // continues seq without reading the stored ones.
  virtual bool derives_seq() const { return false; }
};

// Lets a feed wait for its deadline but wake at once on shutdown.
class Interrupt {
 public:
  virtual ~Interrupt() = default;
  virtual bool requested() const = 0;
  // Sleeps until `deadline` or until requested(); returns requested().
  virtual bool WaitUntil(SteadyTime deadline) const = 0;
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_FEED_H_
