// Decides what the bridge does with each Redis pub/sub push and each stored
// state it reads back: which stream a message belongs to, whether it is a
// canary or a subscribe confirmation, whether its payload can be forwarded,
// and whether its seq is next, stale or follows a gap (docs/SPEC.md §6). It
// builds the frame to fan out, once; it does no I/O and knows no hiredis.
// Not thread-safe: owned by the subscriber thread (it holds the SeqTracker).
#ifndef PHYSICS_BRIDGE_PUSH_ROUTER_H_
#define PHYSICS_BRIDGE_PUSH_ROUTER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "bridge/frame.h"
#include "bridge/seq_tracker.h"
#include "engine/schema/timestamp.h"

namespace physics::bridge {

// One pub/sub push as Redis sent it, its elements viewed, not copied.
struct Push {
  std::string_view kind;     // "message", "pmessage", "smessage", "subscribe", "ssubscribe", ...
  std::string_view pattern;  // pmessage: the pattern that matched
  std::string_view channel;  // message, pmessage: the channel it was published on
  std::string_view payload;  // message, pmessage
  int64_t received_ns = 0;   // steady clock (SteadyNowNs) when it was read
};

// What to do with a push or a stored state.
struct PushDecision {
  enum class Kind : uint8_t {
    kIgnore,      // not a message of ours: a channel or pattern never asked for, unsubscribe...
    kSubscribed,  // a subscribe, psubscribe or ssubscribe confirmation
    kUnsubscribed,  // Redis ended a sharded subscription of ours (sunsubscribe: its
                    // slot moved or its master failed over): resubscribe
    kCanary,      // a health canary came back: canary_id
    kBad,         // cannot be forwarded (malformed payload, bad symbol): error says why
    kStale,       // a state already forwarded (same seq and not newer): dropped
    kDeliver,     // fan out `frame`; after a seq gap, also repair `repair`
  };
  Kind kind = Kind::kIgnore;
  // The stream a message on one of our channels belongs to (kBad, kStale, kDeliver).
  StreamId stream = kStateStream;
  // kDeliver: the frame, with stream, symbol, seq and received_ns filled in.
  std::shared_ptr<OutFrame> frame;
  // kDeliver after a seq gap: the symbol whose stored state to read back,
  // since pub/sub lost some of its updates. Empty otherwise.
  std::string repair;
  // A state_update message whose header parsed: its event time, for the
  // Redis latency histogram (set for stale messages too).
  std::optional<schema::EpochMicros> event_time;
  uint64_t canary_id = 0;  // kCanary; 0 when the payload is not a number
  // kCanary on a sharded canary channel: its index in SetShardedChannels's
  // `canaries` (the master it proves); 0 for the private channel.
  size_t canary_source = 0;
  absl::Status error;      // kBad
};

class PushRouter {
 public:
  // key_prefix: redis::Config::Key(""), the namespace prepended to every
  // channel name in Redis and stripped from those clients see.
  // canary_channel: the bridge's private channel, as named in Redis.
  // channels: the --channels entries; entry i is stream i + 1, a pattern
  // when it holds a glob character (* ? [).
  PushRouter(std::string key_prefix, std::string canary_channel, const std::vector<std::string>& channels);
  PushRouter(const PushRouter&) = delete;
  PushRouter& operator=(const PushRouter&) = delete;

  // What to SUBSCRIBE and PSUBSCRIBE to, as named in Redis. The canary and
  // state_update channels are not among exact_channels().
  const std::string& state_channel() const { return state_channel_; }
  const std::string& canary_channel() const { return canary_channel_; }
  const std::vector<std::string>& exact_channels() const { return exact_channels_; }
  const std::vector<std::string>& patterns() const { return patterns_; }

  // Cluster mode (docs/SPEC.md §9): state_update arrives as `smessage` on the
  // partition channels `state_channels` (as named in Redis), and canaries on
  // `canaries` (one per master, replaced when the topology changes). Their
  // messages are routed as those of state_update and the private canary
  // channel; clients see the same "state_update".
  void SetShardedChannels(std::vector<std::string> state_channels, std::vector<std::string> canaries);
  const std::vector<std::string>& sharded_canaries() const { return sharded_canaries_; }

  // Routes a live push. state_update payloads must be events with a valid
  // symbol and an integer seq and are forwarded unless stale; extra channels
  // forward JSON verbatim and other UTF-8 text as a JSON string.
  PushDecision Route(const Push& push);

  // Routes a state read back from physics:state:{symbol} (priming, repair):
  // rebuilt into the event shape, forwarded on state_update unless stale.
  // kBad when `symbol` is not a normalised symbol or `state_json` no state.
  // Never sets `repair` (this is the repair) nor `event_time`.
  PushDecision RouteStored(std::string_view symbol, std::string_view state_json, int64_t received_ns);

 private:
  bool IsShardedState(std::string_view channel) const;
  PushDecision RouteState(std::string_view payload, int64_t received_ns);
  PushDecision RouteExtra(StreamId stream, std::string_view channel, std::string_view payload,
                          int64_t received_ns);

  const std::string key_prefix_;
  const std::string state_channel_;
  const std::string canary_channel_;
  std::vector<std::string> exact_channels_;  // stream exact_streams_[i] ...
  std::vector<StreamId> exact_streams_;
  std::vector<std::string> patterns_;        // ... and pattern_streams_[i]
  std::vector<StreamId> pattern_streams_;
  absl::flat_hash_set<std::string> sharded_state_;  // partition channels
  std::vector<std::string> sharded_canaries_;      // index: canary_source
  SeqTracker seqs_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_PUSH_ROUTER_H_
