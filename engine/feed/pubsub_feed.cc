#include "engine/feed/pubsub_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/connection.h"
#include "engine/schema/tick_json.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {
namespace {

using Clock = std::chrono::steady_clock;

// Longest single wait on the socket, so a shutdown request is seen promptly.
constexpr auto kMaxWait = std::chrono::milliseconds(50);

}  // namespace

PubSubFeed::PubSubFeed(redis::Config config, PubSubFeedOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      pattern_(config_.Key(options_.pattern)),
      backoff_(redis::ReconnectBackoff(config_)) {}

void PubSubFeed::ConnectionLost(const absl::Status& why) {
  conn_.reset();
  next_attempt_ = Clock::now() + absl::ToChronoNanoseconds(backoff_.Next());
  if (!reported_down_) {
    reported_down_ = true;
    log::Warn(absl::StrCat("pubsub ", pattern_, ": Redis at ", config_.Describe(),
                              " unavailable (", why.message(),
                              "); loop ticks go on, resubscribing with backoff (ticks published "
                              "meanwhile are lost)"));
  }
}

absl::StatusOr<redis::Config> PubSubFeed::SubscribeTarget() {
  if (!config_.uses_cluster()) return config_;
  if (!cluster_) {
    absl::StatusOr<redis::Cluster> cluster =
        redis::Cluster::Open(config_, options_.connect_timeout, absl::Seconds(2));
    if (!cluster.ok()) return cluster.status();
    cluster_.emplace(*std::move(cluster));
  } else {
    cluster_->Refresh().IgnoreError();  // the master we lost may have been replaced
  }
  if (cluster_->masters() == 0) return absl::UnavailableError("the cluster has no master");
  return cluster_->NodeConfig(cluster_->topology().shards[next_master_++ % cluster_->masters()].master);
}

bool PubSubFeed::EnsureSubscribed() {
  if (conn_) return true;
  if (Clock::now() < next_attempt_) return false;
  absl::StatusOr<redis::Config> target = SubscribeTarget();
  // Reads wait with their own bounds (ReadReplyWithin); this one bounds PSUBSCRIBE.
  absl::StatusOr<redis::Connection> conn =
      target.ok() ? redis::Connection::Open(*target, options_.connect_timeout, absl::Seconds(2))
                  : absl::StatusOr<redis::Connection>(target.status());
  if (!conn.ok()) {
    if (!absl::IsUnavailable(conn.status())) {  // refused credentials, bad db: retrying won't help
      fatal_ = absl::Status(conn.status().code(),
                            absl::StrCat("pubsub ", pattern_, ": ", conn.status().message()));
      return false;
    }
    ConnectionLost(conn.status());
    return false;
  }
  conn_.emplace(*std::move(conn));
  if (absl::StatusOr<redis::Reply> r = conn_->Command({"PSUBSCRIBE", pattern_}); !r.ok()) {
    ConnectionLost(r.status());
    return false;
  }
  backoff_.Reset();
  if (reported_down_ || !subscribed_once_) {
    log::Info(absl::StrCat("pubsub: subscribed to ", pattern_, " at ", target->Describe(),
                              reported_down_ ? " again, Redis is back" : ""));
  }
  reported_down_ = false;
  subscribed_once_ = true;
  return true;
}

void PubSubFeed::Handle(const redisReply* message, TickSink& sink) {
  // ["pmessage", pattern, channel, payload]; subscription confirmations are skipped.
  if (message->type != REDIS_REPLY_ARRAY || message->elements != 4 ||
      redis::ReplyText(message->element[0]) != "pmessage") {
    return;
  }
  const schema::EpochMicros arrival = schema::NowEpochMicros();
  origin_text_.assign("pubsub ").append(redis::ReplyText(message->element[2]));
  const TickOrigin origin{origin_text_, 0};
  if (absl::Status s = schema::ParseTickJson(redis::ReplyText(message->element[3]), arrival, tick_); !s.ok()) {
    sink.Reject(origin, s);
    return;
  }
  Deliver(tick_, origin, sink);
}

absl::StatusOr<PollResult> PubSubFeed::Poll(SteadyTime deadline, TickSink& sink,
                                            const Interrupt& interrupted) {
  while (!interrupted.requested()) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    if (!EnsureSubscribed()) {
      if (!fatal_.ok()) return fatal_;
      interrupted.WaitUntil(std::min(deadline, next_attempt_));
      continue;
    }
    const auto wait = std::min<Clock::duration>(kMaxWait, deadline - now);
    absl::StatusOr<redis::Reply> reply = conn_->ReadReplyWithin(absl::FromChrono(wait));
    if (reply.ok()) {
      Handle(reply->get(), sink);
    } else if (!absl::IsDeadlineExceeded(reply.status())) {
      ConnectionLost(reply.status());
    }
  }
  return PollResult::kCloseTick;
}

}  // namespace physics::feed
