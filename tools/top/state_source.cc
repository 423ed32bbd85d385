#include "tools/top/state_source.h"

#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/redis/key_scan.h"
#include "engine/schema/state_message.h"
#include "engine/schema/state_reader.h"

namespace physics::top {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(1);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);

}  // namespace

StateSource::StateSource(redis::Config config, SymbolTable& table)
    : config_(std::move(config)), table_(table) {}

int StateSource::fd() { return subscription_ ? subscription_->raw()->fd : -1; }

std::string StateSource::status() const {
  if (!connected()) {
    return absl::StrCat(last_error_.empty() ? "connecting to Redis" : last_error_, "; retrying");
  }
  if (bad_messages_ > 0) return absl::StrCat(bad_messages_, " unparsable messages, last: ", last_bad_message_);
  return "";
}

absl::Status StateSource::Connect() {
  absl::StatusOr<redis::Connection> sub = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<redis::Reply> ack = sub->Command({"SUBSCRIBE", config_.Key(schema::kStateUpdateChannel)});
  if (!ack.ok()) return ack.status();
  subscription_ = *std::move(sub);
  if (absl::Status s = Prime(); !s.ok()) {
    subscription_.reset();
    return s;
  }
  return absl::OkStatus();
}

absl::Status StateSource::Prime() {
  absl::StatusOr<redis::Connection> conn = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!conn.ok()) return conn.status();
  const std::string prefix = config_.Key(schema::kStateKeyPrefix);
  return redis::ScanKeys(*conn, prefix + "*", [&](std::span<const std::string> keys) {
    absl::StatusOr<redis::Reply> values = redis::MGet(*conn, keys);
    if (!values.ok()) return values.status();
    for (size_t i = 0; i < keys.size(); ++i) {
      absl::StatusOr<schema::StateFields> state = schema::ParseStateJson(redis::ReplyText((*values)->element[i]));
      if (state.ok()) table_.Apply(std::string_view(keys[i]).substr(prefix.size()), *state, false);
    }
    return absl::OkStatus();
  });
}

bool StateSource::Poll(absl::Time now, size_t max_messages) {
  bool changed = false;
  if (!subscription_) {
    if (now < next_attempt_) return false;
    if (absl::Status s = Connect(); !s.ok()) {
      last_error_ = std::string(s.message());
      next_attempt_ = now + backoff_.Next();
      return true;  // the status line changed
    }
    backoff_.Reset();
    last_error_.clear();
    changed = true;
  }
  for (size_t n = 0; n < max_messages; ++n) {
    absl::StatusOr<redis::Reply> reply = subscription_->ReadReplyWithin(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(reply.status())) break;
    if (!reply.ok()) {
      last_error_ = std::string(reply.status().message());
      subscription_.reset();
      next_attempt_ = now + backoff_.Next();
      return true;
    }
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || redis::ReplyText(r->element[0]) != "message") continue;
    absl::StatusOr<schema::StateEvent> event = schema::ParseStateEvent(redis::ReplyText(r->element[2]));
    if (!event.ok()) {
      ++bad_messages_;
      last_bad_message_ = std::string(event.status().message());
      changed = true;
      continue;
    }
    changed |= table_.Apply(event->symbol, event->state, true);
  }
  return changed;
}

}  // namespace physics::top
