// What the bridge's Redis side does with each reply it reads, whatever the
// Redis mode (one server, Sentinel, Cluster): routes it (PushRouter), acts on
// the decision (counts it, logs a bad state_update, batches the frames for
// the sink, answers a canary), forwards stored states read back for priming
// and repair, and reads the confirmations of a subscribe command.
// Not thread-safe: owned by the subscriber thread, as its PushRouter.
#ifndef PHYSICS_BRIDGE_DELIVERY_H_
#define PHYSICS_BRIDGE_DELIVERY_H_

#include <hiredis/hiredis.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "bridge/frame.h"
#include "bridge/metrics.h"
#include "bridge/push_router.h"
#include "engine/redis/connection.h"

namespace physics::bridge {

// Receives the subscriber's output. Called on the subscriber thread: hand the
// work to another thread (asio::post) and return quickly.
class SubscriberSink {
 public:
  virtual ~SubscriberSink() = default;
  // Messages to fan out, in Redis order (live, primed or repaired). Messages
  // that arrived together are handed over together, so the io thread pays
  // one wake-up and one write per client for a whole burst.
  virtual void OnFrames(std::vector<FramePtr> frames) = 0;
  // The canary with this id came back through the subscription (through
  // every master's, in cluster mode).
  virtual void OnCanary(uint64_t id) = 0;
};

// Logs the 1st, 2nd, 4th, 8th... occurrence, so a misbehaving publisher
// cannot flood the log.
inline bool ShouldLog(uint64_t count) { return (count & (count - 1)) == 0; }

class Delivery {
 public:
  // `router` is built by the caller (its channels are the caller's).
  Delivery(std::unique_ptr<PushRouter> router, SubscriberSink& sink, BridgeMetrics& metrics);
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  PushRouter& router() { return *router_; }

  // Routes one reply read from a subscribed connection (kIgnore when it is
  // not a pub/sub push).
  PushDecision Route(const redisReply& reply);
  // Acts on a routed push: counts it, logs a bad state_update, hands frames
  // and canaries on (kUnsubscribed is the caller's). Returns the symbol to
  // repair after a seq gap, else "".
  std::string Apply(PushDecision decision);
  // Routes the state stored for `symbol` and forwards it unless stale.
  void ForwardStored(std::string_view symbol, std::string_view state_json);
  // Hands the frames batched so far to the sink.
  void Flush();
  // Frames are waiting for Flush(): the reader should only take replies
  // already received before flushing, not wait for more.
  bool batch_open() const { return !batch_.empty(); }

  // Sends `argv` (SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE and its channels) on
  // `conn` and reads until Redis confirmed each channel; messages arriving
  // among the confirmations are applied like any other (no repair: priming
  // follows). An error reply (MOVED for a slot served elsewhere) is
  // kUnavailable naming it.
  absl::Status Subscribe(redis::Connection& conn, std::span<const std::string_view> argv);

 private:
  void Emit(std::shared_ptr<OutFrame> frame);

  std::unique_ptr<PushRouter> router_;
  SubscriberSink& sink_;
  BridgeMetrics& metrics_;
  std::vector<FramePtr> batch_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_DELIVERY_H_
