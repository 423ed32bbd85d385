#include "bridge/delivery.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/schema/state_message.h"
#include "engine/schema/timestamp.h"

namespace physics::bridge {
namespace {

// At most this many messages are handed to the io thread at once.
constexpr size_t kMaxBatch = 256;

using redis::IsTextReply;
using redis::ReplyText;

// The push in `reply` as plain fields (received_ns left 0), or nullopt when
// `reply` is no push.
std::optional<Push> ReadPush(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3 || !IsTextReply(reply.element[0])) {
    return std::nullopt;
  }
  const redisReply* const* e = reply.element;
  Push push;
  push.kind = ReplyText(e[0]);
  if (push.kind == "pmessage") {
    if (reply.elements != 4) return std::nullopt;
    push.pattern = ReplyText(e[1]);
    push.channel = ReplyText(e[2]);
    push.payload = ReplyText(e[3]);
  } else {
    // (s)message: channel, payload; (p|s)(un)subscribe: channel or pattern, count.
    if (IsTextReply(e[1])) push.channel = ReplyText(e[1]);
    if (IsTextReply(e[2])) push.payload = ReplyText(e[2]);
  }
  return push;
}

}  // namespace

Delivery::Delivery(std::unique_ptr<PushRouter> router, SubscriberSink& sink, BridgeMetrics& metrics)
    : router_(std::move(router)), sink_(sink), metrics_(metrics) {}

PushDecision Delivery::Route(const redisReply& reply) {
  std::optional<Push> push = ReadPush(reply);
  if (!push) return PushDecision{};
  // The messages of one batch arrived together: they share the first one's
  // time (which also lets a client's write observe its latency once per batch).
  push->received_ns = batch_.empty() ? SteadyNowNs() : batch_.front()->received_ns;
  return router_->Route(*push);
}

std::string Delivery::Apply(PushDecision decision) {
  using Kind = PushDecision::Kind;
  switch (decision.kind) {
    case Kind::kIgnore:
    case Kind::kSubscribed:
    case Kind::kUnsubscribed:
      return {};
    case Kind::kCanary:
      sink_.OnCanary(decision.canary_id);
      return {};
    case Kind::kBad:
    case Kind::kStale:
    case Kind::kDeliver:
      break;
  }
  metrics_.messages_in.fetch_add(1, std::memory_order_relaxed);
  if (decision.event_time) metrics_.redis_latency.Observe(schema::NowEpochMicros() - *decision.event_time);
  if (decision.kind == Kind::kBad) {
    const uint64_t n = metrics_.bad_messages.fetch_add(1, std::memory_order_relaxed) + 1;
    // Only state_update has a shape to break; extra channels are counted.
    if (decision.stream == kStateStream && ShouldLog(n)) {
      log::Warn(absl::StrCat("dropping bad ", router_->state_channel(), " message (", n,
                             " so far): ", std::string(decision.error.message())));
    }
    return {};
  }
  if (decision.kind == Kind::kStale) {
    metrics_.stale_messages.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  if (!decision.repair.empty()) metrics_.seq_gaps.fetch_add(1, std::memory_order_relaxed);
  Emit(std::move(decision.frame));
  return std::move(decision.repair);
}

void Delivery::ForwardStored(std::string_view symbol, std::string_view state_json) {
  PushDecision decision = router_->RouteStored(symbol, state_json, SteadyNowNs());
  if (decision.kind == PushDecision::Kind::kBad) {
    const uint64_t n = metrics_.bad_messages.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ShouldLog(n)) {
      log::Warn(absl::StrCat("skipping stored state ", std::string(schema::kStateKeyPrefix),
                             std::string(symbol), ": ", std::string(decision.error.message())));
    }
    return;
  }
  if (decision.kind != PushDecision::Kind::kDeliver) return;  // stale: clients have it already
  metrics_.repairs.fetch_add(1, std::memory_order_relaxed);
  Emit(std::move(decision.frame));
}

void Delivery::Emit(std::shared_ptr<OutFrame> frame) {
  batch_.push_back(std::move(frame));
  if (batch_.size() >= kMaxBatch) Flush();
}

void Delivery::Flush() {
  if (batch_.empty()) return;
  std::vector<FramePtr> frames;
  frames.reserve(kMaxBatch);
  frames.swap(batch_);
  sink_.OnFrames(std::move(frames));
}

absl::Status Delivery::Subscribe(redis::Connection& conn, std::span<const std::string_view> argv) {
  size_t confirmed = 0;
  absl::StatusOr<redis::Reply> reply = conn.Command(argv);
  for (;;) {
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) {  // Command() turns the first reply's into a status
      return absl::UnavailableError(absl::StrCat("Redis ", conn.endpoint(), ": ", std::string(argv[0]), ": ",
                                                 std::string((*reply)->str, (*reply)->len)));
    }
    PushDecision decision = Route(**reply);
    if (decision.kind == PushDecision::Kind::kSubscribed) {
      if (++confirmed == argv.size() - 1) return absl::OkStatus();
    } else {
      Apply(std::move(decision));
    }
    reply = conn.ReadReply();
  }
}

}  // namespace physics::bridge
