#include "tools/top/state_source.h"

#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/schema/state_message.h"
#include "engine/schema/state_reader.h"

namespace physics::top {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(1);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);

}  // namespace

StateSource::StateSource(redis::Config config, SymbolTable& table, int partitions)
    : config_(std::move(config)),
      table_(table),
      partitioning_(partitions),
      backoff_(redis::ReconnectBackoff(config_)) {}

std::vector<int> StateSource::fds() {
  std::vector<int> fds;
  for (redis::Connection& sub : subscriptions_) fds.push_back(sub.raw()->fd);
  return fds;
}

std::string StateSource::status() const {
  if (!connected()) {
    return absl::StrCat(last_error_.empty() ? "connecting to Redis" : last_error_, "; retrying");
  }
  if (bad_messages_ > 0) return absl::StrCat(bad_messages_, " unparsable messages, last: ", last_bad_message_);
  return "";
}

absl::Status StateSource::Connect() {
  if (config_.uses_cluster()) return ConnectCluster();
  absl::StatusOr<redis::Connection> sub = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<redis::Reply> ack = sub->Command({"SUBSCRIBE", config_.Key(schema::kStateUpdateChannel)});
  if (!ack.ok()) return ack.status();
  absl::StatusOr<redis::Connection> conn = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!conn.ok()) return conn.status();
  redis::KeySpace keys(*conn);
  if (absl::Status s = Prime(keys); !s.ok()) return s;
  subscriptions_.push_back(*std::move(sub));
  subscription_names_.push_back(config_.Describe());
  return absl::OkStatus();
}

absl::Status StateSource::ConnectCluster() {
  if (!cluster_) {
    absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(config_, kConnectTimeout, kIoTimeout);
    if (!cluster.ok()) return cluster.status();
    cluster_.emplace(*std::move(cluster));
  } else if (absl::Status s = cluster_->Refresh(absl::ZeroDuration()); !s.ok()) {
    return s;
  }
  const redis::ClusterTopology& topology = cluster_->topology();
  absl::StatusOr<std::vector<std::vector<int>>> by_master =
      redis::PartitionsByMaster(partitioning_, *cluster_, config_);
  if (!by_master.ok()) return by_master.status();
  const std::vector<std::vector<int>>& partitions = *by_master;
  std::vector<redis::Connection> subs;
  std::vector<std::string> names;
  for (size_t i = 0; i < topology.shards.size(); ++i) {
    const std::string name = topology.shards[i].master.ToString();
    absl::StatusOr<redis::Connection> sub =
        cluster_->OpenMasterConnection(topology.shards[i].master, kConnectTimeout, kIoTimeout);
    if (!sub.ok()) return sub.status();
    // One SSUBSCRIBE per channel: a call may only name channels of one slot.
    for (const int p : partitions[i]) {
      absl::StatusOr<redis::Reply> ack = sub->Command({"SSUBSCRIBE", partitioning_.Channel(config_, p)});
      if (!ack.ok()) return ack.status();
      if ((*ack)->type == REDIS_REPLY_ERROR) {
        return absl::UnavailableError(absl::StrCat("Redis ", name, ": ", std::string(redis::ReplyText(ack->get()))));
      }
    }
    subs.push_back(*std::move(sub));
    names.push_back(name);
  }
  redis::KeySpace keys(*cluster_);
  if (absl::Status s = Prime(keys); !s.ok()) return s;
  subscriptions_ = std::move(subs);
  subscription_names_ = std::move(names);
  return absl::OkStatus();
}

absl::Status StateSource::Prime(redis::KeySpace& keys) {
  const std::string prefix = config_.Key(schema::kStateKeyPrefix);
  return keys.Scan(prefix + "*", [&](std::span<const std::string> page) {
    return keys.Values(page, [&](size_t i, const redisReply* value) {
      absl::StatusOr<schema::StateFields> state = schema::ParseStateJson(redis::ReplyText(value));
      if (state.ok()) table_.Apply(std::string_view(page[i]).substr(prefix.size()), *state, false);
    });
  });
}

absl::Status StateSource::Drain(size_t i, size_t& budget, bool& changed) {
  for (; budget > 0; --budget) {
    absl::StatusOr<redis::Reply> reply = subscriptions_[i].ReadReplyWithin(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(reply.status())) return absl::OkStatus();
    if (!reply.ok()) return reply.status();
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(absl::StrCat("Redis ", subscription_names_[i], ": ", std::string(redis::ReplyText(r))));
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) continue;
    const std::string_view kind = redis::ReplyText(r->element[0]);
    if (kind == "sunsubscribe") {
      return absl::UnavailableError(absl::StrCat("master ", subscription_names_[i],
                                                 " ended a subscription (sunsubscribe: its slot moved or it "
                                                 "failed over)"));
    }
    if (kind != "message" && kind != "smessage") continue;
    absl::StatusOr<schema::StateEvent> event = schema::ParseStateEvent(redis::ReplyText(r->element[2]));
    if (!event.ok()) {
      ++bad_messages_;
      last_bad_message_ = std::string(event.status().message());
      changed = true;
      continue;
    }
    changed |= table_.Apply(event->symbol, event->state, true);
  }
  return absl::OkStatus();
}

bool StateSource::Poll(absl::Time now, size_t max_messages) {
  bool changed = false;
  if (subscriptions_.empty()) {
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
  size_t budget = max_messages;
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (absl::Status s = Drain(i, budget, changed); !s.ok()) {
      last_error_ = std::string(s.message());
      subscriptions_.clear();
      subscription_names_.clear();
      next_attempt_ = now + backoff_.Next();
      return true;
    }
  }
  return changed;
}

}  // namespace physics::top
