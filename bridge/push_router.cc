#include "bridge/push_router.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "bridge/options.h"
#include "engine/schema/event_header.h"
#include "engine/schema/state_message.h"
#include "engine/schema/symbol.h"
#include "simdjson.h"

namespace physics::bridge {

using Kind = PushDecision::Kind;

namespace {

PushDecision Decide(Kind kind, StreamId stream = kStateStream) {
  PushDecision d;
  d.kind = kind;
  d.stream = stream;
  return d;
}

PushDecision CanaryDecision(std::string_view payload) {
  PushDecision d = Decide(Kind::kCanary);
  std::from_chars(payload.data(), payload.data() + payload.size(), d.canary_id);
  return d;
}

PushDecision Bad(StreamId stream, absl::Status error) {
  PushDecision d = Decide(Kind::kBad, stream);
  d.error = std::move(error);
  return d;
}

}  // namespace

PushRouter::PushRouter(std::string key_prefix, std::string canary_channel,
                       const std::vector<std::string>& channels)
    : key_prefix_(std::move(key_prefix)),
      state_channel_(key_prefix_ + std::string(schema::kStateUpdateChannel)),
      canary_channel_(std::move(canary_channel)) {
  for (size_t i = 0; i < channels.size(); ++i) {
    const auto stream = static_cast<StreamId>(i + 1);
    if (IsChannelPattern(channels[i])) {
      patterns_.push_back(absl::StrCat(key_prefix_, channels[i]));
      pattern_streams_.push_back(stream);
    } else {
      exact_channels_.push_back(absl::StrCat(key_prefix_, channels[i]));
      exact_streams_.push_back(stream);
    }
  }
}

void PushRouter::SetShardedChannels(std::vector<std::string> state_channels,
                                    std::vector<std::string> canaries) {
  sharded_state_.clear();
  sharded_state_.insert(std::make_move_iterator(state_channels.begin()),
                        std::make_move_iterator(state_channels.end()));
  sharded_canaries_ = std::move(canaries);
}

bool PushRouter::IsShardedState(std::string_view channel) const {
  // Abseil's string_view may not be std's here: look up through its own.
  return sharded_state_.contains(absl::string_view(channel.data(), channel.size()));
}

PushDecision PushRouter::Route(const Push& push) {
  if (push.kind == "message") {
    if (push.channel == canary_channel_) return CanaryDecision(push.payload);
    if (push.channel == state_channel_) return RouteState(push.payload, push.received_ns);
    for (size_t i = 0; i < exact_channels_.size(); ++i) {
      if (push.channel == exact_channels_[i]) {
        return RouteExtra(exact_streams_[i], push.channel, push.payload, push.received_ns);
      }
    }
  } else if (push.kind == "pmessage") {
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (push.pattern == patterns_[i]) {
        return RouteExtra(pattern_streams_[i], push.channel, push.payload, push.received_ns);
      }
    }
  } else if (push.kind == "smessage") {
    if (IsShardedState(push.channel)) return RouteState(push.payload, push.received_ns);
    for (size_t i = 0; i < sharded_canaries_.size(); ++i) {
      if (push.channel == sharded_canaries_[i]) {
        PushDecision d = CanaryDecision(push.payload);
        d.canary_source = i;
        return d;
      }
    }
  } else if (push.kind == "subscribe" || push.kind == "psubscribe" || push.kind == "ssubscribe") {
    return Decide(Kind::kSubscribed);
  } else if (push.kind == "sunsubscribe" &&
             (IsShardedState(push.channel) ||
              std::find(sharded_canaries_.begin(), sharded_canaries_.end(), push.channel) !=
                  sharded_canaries_.end())) {
    return Decide(Kind::kUnsubscribed);
  }
  return Decide(Kind::kIgnore);
}

PushDecision PushRouter::RouteState(std::string_view payload, int64_t received_ns) {
  PushDecision d = Decide(Kind::kDeliver, kStateStream);
  // Built before it is validated: the header is then parsed in place, in the
  // frame's padded buffer, instead of from a copy.
  d.frame = BuildMessageFrame(schema::kStateUpdateChannel, payload, true);
  schema::EventHeader header;
  if (absl::Status s = schema::ParseEventHeader(d.frame->data(), true, header); !s.ok()) {
    d.kind = Kind::kBad;
    d.frame.reset();
    d.error = std::move(s);
    return d;
  }
  d.event_time = header.timestamp;
  const SeqTracker::Verdict verdict = seqs_.Observe(header.symbol, header.seq, header.timestamp);
  if (verdict == SeqTracker::Verdict::kStale) {
    d.kind = Kind::kStale;
    d.frame.reset();
    return d;
  }
  if (verdict == SeqTracker::Verdict::kGap) d.repair = header.symbol;
  d.frame->stream = kStateStream;
  d.frame->symbol = std::move(header.symbol);
  d.frame->seq = header.seq;
  d.frame->received_ns = received_ns;
  return d;
}

PushDecision PushRouter::RouteExtra(StreamId stream, std::string_view channel, std::string_view payload,
                                    int64_t received_ns) {
  // Extra channels carry whatever their publishers send: forwarded verbatim
  // when it is JSON, as a JSON string when it is other UTF-8 text.
  if (!simdjson::validate_utf8(payload.data(), payload.size())) {
    return Bad(stream, absl::InvalidArgumentError("payload is not UTF-8"));
  }
  // Clients see channel names without the namespace, as they subscribe.
  const std::string_view client_channel = channel.substr(std::min(key_prefix_.size(), channel.size()));
  thread_local simdjson::dom::parser validator;
  PushDecision d = Decide(Kind::kDeliver, stream);
  d.frame = BuildMessageFrame(client_channel, payload, true);
  schema::EventHeader header;
  if (validator.parse(d.frame->data().data(), d.frame->data().size(), false).error()) {
    d.frame = BuildMessageFrame(client_channel, payload, false);
  } else if (!schema::ParseEventHeader(d.frame->data(), true, header).ok()) {
    header = {};  // JSON, but not an event: forwarded without symbol or seq
  }
  d.frame->stream = stream;
  d.frame->symbol = std::move(header.symbol);
  d.frame->seq = header.seq;
  d.frame->received_ns = received_ns;
  return d;
}

PushDecision PushRouter::RouteStored(std::string_view symbol, std::string_view state_json,
                                     int64_t received_ns) {
  std::string normalized, event;
  absl::Status s = schema::NormalizeSymbol(symbol, normalized);
  if (s.ok() && normalized != symbol) s = absl::InvalidArgumentError("symbol is not upper case");
  if (s.ok()) s = schema::EventFromStateJson(normalized, state_json, event);
  if (!s.ok()) return Bad(kStateStream, std::move(s));
  PushDecision d = RouteState(event, received_ns);
  d.repair.clear();        // a stored state is itself the repair
  d.event_time.reset();    // and says nothing of the pub/sub latency
  return d;
}

}  // namespace physics::bridge
