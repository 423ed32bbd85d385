#include "tools/top/state_source.h"

#include <algorithm>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/schema/state_message.h"
#include "engine/schema/state_reader.h"

namespace physics::top {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(1);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);
// While a cluster master is left out, how often it is tried again (an
// attempt reads the slot map and may wait on a stalled master's timeouts).
constexpr absl::Duration kUnreachableRetry = absl::Seconds(1);

}  // namespace

StateSource::StateSource(redis::Config config, SymbolTable& table, int partitions)
    : config_(std::move(config)),
      table_(table),
      partitioning_(partitions),
      backoff_(redis::ReconnectBackoff(config_)) {}

std::vector<int> StateSource::fds() {
  std::vector<int> fds;
  for (Subscription& sub : subscriptions_) fds.push_back(sub.conn.raw()->fd);
  return fds;
}

std::string StateSource::status() const {
  if (!connected()) {
    return absl::StrCat(last_error_.empty() ? "connecting to Redis" : last_error_, "; retrying");
  }
  if (!unreachable_.empty()) {
    return absl::StrCat("not following ", unreachable_.size(), " of ", unreachable_.size() + subscriptions_.size(),
                        " masters: ", absl::StrJoin(unreachable_, "; "), "; retrying");
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
  subscriptions_.push_back({*std::move(sub), config_.Describe(), {}});
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
  // A subscription whose master and partitions did not change is kept (no
  // gap, no priming); the others are made afresh and their masters primed.
  std::vector<Subscription> fresh;
  std::vector<std::optional<size_t>> kept(topology.shards.size());  // index into subscriptions_
  std::vector<std::string> unreachable;
  std::vector<size_t> to_prime;
  absl::Status first_error;
  for (size_t i = 0; i < topology.shards.size(); ++i) {
    const std::string name = topology.shards[i].master.ToString();
    const std::vector<int>& partitions = (*by_master)[i];
    for (size_t k = 0; k < subscriptions_.size(); ++k) {
      const Subscription& old = subscriptions_[k];
      if (old.name == name && old.partitions == partitions && old.conn.ok()) kept[i] = k;
    }
    if (kept[i]) continue;
    absl::StatusOr<redis::Connection> sub = SubscribeMaster(i, partitions);
    if (!sub.ok()) {
      if (absl::IsUnauthenticated(sub.status()) || absl::IsPermissionDenied(sub.status())) return sub.status();
      if (first_error.ok()) first_error = sub.status();
      unreachable.push_back(std::string(sub.status().message()));
      continue;
    }
    fresh.push_back({*std::move(sub), name, partitions});
    to_prime.push_back(i);
  }
  if (fresh.empty() && std::none_of(kept.begin(), kept.end(), [](const auto& k) { return k.has_value(); })) {
    return first_error;
  }
  redis::KeySpace keys(*cluster_);
  if (absl::Status s = Prime(keys, &to_prime); !s.ok()) return s;
  for (const std::optional<size_t>& k : kept) {
    if (k) fresh.push_back(std::move(subscriptions_[*k]));
  }
  subscriptions_ = std::move(fresh);
  unreachable_ = std::move(unreachable);
  return absl::OkStatus();
}

absl::StatusOr<redis::Connection> StateSource::SubscribeMaster(size_t i, const std::vector<int>& partitions) {
  const redis::HostPort& master = cluster_->topology().shards[i].master;
  absl::StatusOr<redis::Connection> sub = cluster_->OpenMasterConnection(master, kConnectTimeout, kIoTimeout);
  if (!sub.ok()) return sub.status();
  // One SSUBSCRIBE per channel: a call may only name channels of one slot.
  for (const int p : partitions) {
    absl::StatusOr<redis::Reply> ack = sub->Command({"SSUBSCRIBE", partitioning_.Channel(config_, p)});
    if (!ack.ok()) return ack.status();
    if ((*ack)->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(
          absl::StrCat("Redis ", master.ToString(), ": ", std::string(redis::ReplyText(ack->get()))));
    }
  }
  return sub;
}

absl::Status StateSource::Prime(redis::KeySpace& keys, const std::vector<size_t>* masters) {
  const std::string prefix = config_.Key(schema::kStateKeyPrefix);
  const auto on_page = [&](std::span<const std::string> page) {
    return keys.Values(page, [&](size_t i, const redisReply* value) {
      absl::StatusOr<schema::StateFields> state = schema::ParseStateJson(redis::ReplyText(value));
      if (state.ok()) table_.Apply(std::string_view(page[i]).substr(prefix.size()), *state, false);
    });
  };
  if (masters == nullptr) return keys.Scan(prefix + "*", on_page);
  for (const size_t i : *masters) {
    if (absl::Status s = keys.ScanMaster(i, prefix + "*", on_page); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status StateSource::Drain(size_t i, size_t& budget, bool& changed) {
  for (; budget > 0; --budget) {
    absl::StatusOr<redis::Reply> reply = subscriptions_[i].conn.ReadReplyWithin(absl::ZeroDuration());
    if (absl::IsDeadlineExceeded(reply.status())) return absl::OkStatus();
    if (!reply.ok()) return reply.status();
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(absl::StrCat("Redis ", subscriptions_[i].name, ": ", std::string(redis::ReplyText(r))));
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) continue;
    const std::string_view kind = redis::ReplyText(r->element[0]);
    if (kind == "sunsubscribe") {
      return absl::UnavailableError(absl::StrCat("master ", subscriptions_[i].name,
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
  // Not subscribed, or a cluster master left out: (re)subscribe when due. A
  // failed attempt while some masters are followed keeps following them.
  if (now >= next_attempt_ && (!connected() || !unreachable_.empty())) {
    if (absl::Status s = Connect(); !s.ok()) {
      last_error_ = std::string(s.message());
      next_attempt_ = now + std::max(backoff_.Next(), connected() ? kUnreachableRetry : absl::ZeroDuration());
      if (!connected()) return true;  // the status line changed
    } else {
      backoff_.Reset();
      last_error_.clear();
      changed = true;
      if (!unreachable_.empty()) next_attempt_ = now + kUnreachableRetry;
    }
  }
  if (!connected()) return changed;
  size_t budget = max_messages;
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (absl::Status s = Drain(i, budget, changed); !s.ok()) {
      last_error_ = std::string(s.message());
      subscriptions_.clear();
      unreachable_.clear();
      next_attempt_ = now + backoff_.Next();
      return true;
    }
  }
  return changed;
}

}  // namespace physics::top
