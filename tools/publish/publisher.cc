#include "tools/publish/publisher.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/schema/json_writer.h"
#include "engine/schema/tick_json.h"

namespace physics::publish {
namespace {

constexpr int kInvalidKinds = 4;
constexpr absl::Duration kConnectTimeout = absl::Seconds(1), kIoTimeout = absl::Seconds(5);

std::optional<std::string> After(std::string_view text, std::string_view kind) {
  if (text == kind) return std::string();
  if (text.size() > kind.size() + 1 && text.substr(0, kind.size()) == kind && text[kind.size()] == ':') {
    return std::string(text.substr(kind.size() + 1));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Target> ParseTarget(std::string_view text) {
  if (std::optional<std::string> prefix = After(text, "pubsub")) {
    return Target{Target::Kind::kPubSub, prefix->empty() ? "market.tick." : *prefix};
  }
  if (std::optional<std::string> key = After(text, "stream")) {
    return Target{Target::Kind::kStream, key->empty() ? "market:ticks" : *key};
  }
  return absl::InvalidArgumentError("expected pubsub[:CHANNEL_PREFIX] or stream[:KEY]");
}

Publisher::Publisher(redis::Config config, Target target, int64_t invalid_every, int partitions)
    : config_(std::move(config)),
      target_(std::move(target)),
      key_(config_.Key(target_.name)),
      invalid_every_(invalid_every) {
  if (target_.kind == Target::Kind::kStream && partitions > 0) {
    partitioning_.emplace(partitions);
    for (int p = 0; p < partitions; ++p) partition_keys_.push_back(partitioning_->Stream(key_, p));
  }
}

std::string Publisher::Describe() const {
  return absl::StrCat(target_.kind == Target::Kind::kPubSub ? "pubsub " : "stream ", key_,
                      target_.kind == Target::Kind::kPubSub ? "{SYM}" : "",
                      partitioning_ ? absl::StrCat(":{TAG} (", partitioning_->count(), " partitions)") : "",
                      " at ", config_.Describe());
}

void Publisher::Add(const schema::Tick& tick) {
  queued_.push_back(Message{tick, -1});
  ++added_;
  if (invalid_every_ > 0 && added_ % invalid_every_ == 0) {
    queued_.push_back(Message{tick, static_cast<int>((added_ / invalid_every_ - 1) % kInvalidKinds)});
  }
}

void Publisher::Encode(const Message& m, uint32_t tag) {
  schema::Tick t = m.tick;
  // The invalid kinds: 0 negative price, 1 bad symbol, 2 unparsable, 3 no price.
  if (m.invalid_kind == 0) t.price = -1;
  if (m.invalid_kind == 1) t.symbol = "BAD SYMBOL!";
  if (target_.kind == Target::Kind::kPubSub) {
    scratch_.clear();
    if (m.invalid_kind == 2) {
      scratch_.append("{\"symbol\":\"").append(t.symbol).append("\",\"price\":");  // cut short
    } else {
      schema::AppendTickJson(t, scratch_);
      if (m.invalid_kind == 3) {  // drop "price":...,
        const size_t at = scratch_.find("\"price\":");
        scratch_.erase(at, scratch_.find(',', at) + 1 - at);
      }
    }
    const std::string channel = key_ + t.symbol;
    pipeline_.Append({"PUBLISH", channel, scratch_});
    return;
  }
  char price[schema::kJsonNumberBufferSize], size[schema::kJsonNumberBufferSize];
  char trades[schema::kJsonNumberBufferSize], bid[schema::kJsonNumberBufferSize];
  char ask[schema::kJsonNumberBufferSize];
  // The partition of the symbol as the engine normalises it (upper case).
  const int partition = partitioning_ ? partitioning_->Of(absl::AsciiStrToUpper(t.symbol)) : 0;
  scratch_.clear();
  schema::AppendEpochSeconds(t.timestamp, scratch_);
  std::vector<std::string_view> argv = {"XADD", partitioning_ ? partition_keys_[partition] : key_, "*",
                                        "symbol", t.symbol};
  if (m.invalid_kind == 2) {
    argv.insert(argv.end(), {"price", "abc"});
  } else if (m.invalid_kind != 3) {
    argv.insert(argv.end(), {"price", schema::FormatJsonNumber(t.price, price)});
  }
  argv.insert(argv.end(), {"size", schema::FormatJsonNumber(t.size, size), "trades",
                           schema::FormatJsonNumber(t.trades, trades)});
  if (!std::isnan(t.bid)) argv.insert(argv.end(), {"bid", schema::FormatJsonNumber(t.bid, bid)});
  if (!std::isnan(t.ask)) argv.insert(argv.end(), {"ask", schema::FormatJsonNumber(t.ask, ask)});
  argv.insert(argv.end(), {"timestamp", scratch_});
  if (cluster_) {
    cluster_pipeline_.Append(partitioning_->Slot(partition), tag, argv);
  } else {
    pipeline_.Append(argv);
  }
}

absl::StatusOr<redis::Connection*> Publisher::Connect() {
  if (config_.uses_cluster()) {
    if (!cluster_) {
      absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(config_, kConnectTimeout, kIoTimeout);
      if (!cluster.ok()) return cluster.status();
      cluster_.emplace(*std::move(cluster));
    }
    // Any master would do (the cluster copies a PUBLISH to every node); the
    // one serving slot 0 is easy to name.
    const int master = cluster_->MasterOf(0);
    if (master == redis::ClusterTopology::kNoOwner) return absl::UnavailableError("no master serves slot 0");
    return cluster_->Master(static_cast<size_t>(master));
  }
  if (!conn_ || !conn_->ok()) {
    conn_.reset();
    absl::StatusOr<redis::Connection> conn = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
    if (!conn.ok()) return conn.status();
    conn_.emplace(*std::move(conn));
  }
  return &*conn_;
}

absl::Status Publisher::SendToClusterStreams() {
  for (size_t i = 0; i < queued_.size(); ++i) Encode(queued_[i], static_cast<uint32_t>(i));
  absl::Status s = cluster_pipeline_.Execute(*cluster_);
  if (s.ok()) return s;
  std::vector<bool> failed(queued_.size(), false);
  for (const uint32_t tag : cluster_pipeline_.failed_tags()) failed[tag] = true;
  unsent_.clear();
  for (size_t i = 0; i < queued_.size(); ++i) {
    if (failed[i]) {
      unsent_.push_back(queued_[i]);
    } else {
      Count(queued_[i]);
    }
  }
  queued_.swap(unsent_);
  return s;
}

absl::Status Publisher::SendOnce() {
  if (partitioning_ && config_.uses_cluster()) {
    if (!cluster_) {
      absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(config_, kConnectTimeout, kIoTimeout);
      if (!cluster.ok()) return cluster.status();
      cluster_.emplace(*std::move(cluster));
    }
    absl::Status s = SendToClusterStreams();
    if (absl::IsUnavailable(s)) cluster_.reset();  // opened afresh: a master may have been replaced
    return s;
  }
  absl::StatusOr<redis::Connection*> conn = Connect();
  absl::Status s = conn.status();
  if (conn.ok()) {
    for (const Message& m : queued_) Encode(m, 0);
    s = pipeline_.Execute(**conn);
    if ((*conn)->ok()) return s;
  }
  // Lost: a cluster is opened afresh (its master may have been replaced).
  conn_.reset();
  if (absl::IsUnavailable(s)) cluster_.reset();
  return s;
}

bool Publisher::Send(const feed::Interrupt& stop) {
  if (queued_.empty()) return true;
  while (true) {
    absl::Status s = SendOnce();
    if (s.ok() || !absl::IsUnavailable(s)) {
      if (!s.ok()) log::Warn(absl::StrCat("Redis rejected part of a batch: ", s.message()));
      if (reported_down_) log::Info(absl::StrCat("Redis at ", config_.Describe(), " is back"));
      reported_down_ = false;
      backoff_.Reset();
      for (const Message& m : queued_) Count(m);
      queued_.clear();
      return true;
    }
    if (!reported_down_) {
      reported_down_ = true;
      log::Warn(absl::StrCat("Redis unavailable (", s.message(), "); retrying with backoff"));
    }
    if (stop.WaitUntil(std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(backoff_.Next()))) {
      return false;
    }
  }
}

}  // namespace physics::publish
