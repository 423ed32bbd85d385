#include "bridge/cluster_subscriber.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/log/log.h"
#include "engine/redis/backoff.h"
#include "engine/redis/key_space.h"
#include "engine/redis/key_slot.h"
#include "engine/schema/state_message.h"

namespace physics::bridge {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Milliseconds(500);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);
// Subscribing again to a master whose last attempt failed: a stalled master
// (its sockets accept, it never answers) holds the thread, and with it the
// other masters' delivery, this long per attempt.
constexpr absl::Duration kRetryIoTimeout = absl::Milliseconds(500);
// The longest wait for messages before the thread looks at its other duties
// anyway (canary requests and stop wake it at once; the heartbeat sets its
// own deadline).
constexpr absl::Duration kMaxIdleWait = absl::Seconds(1);
// Replies taken from one master before the others get their turn.
constexpr int kMaxRepliesPerTurn = 256;
// Health checks come at most a few a second and time out after 1 s: older
// canaries are forgotten.
constexpr size_t kMaxPendingCanaries = 32;

using redis::ReplyText;

std::vector<std::string> PartitionChannels(const redis::Config& config, const redis::Partitioning& parts) {
  std::vector<std::string> channels;
  channels.reserve(parts.count());
  for (int p = 0; p < parts.count(); ++p) channels.push_back(parts.Channel(config, p));
  return channels;
}

// `base`:{n} for the smallest n = 0, 1, 2, ... whose slot master `shard`
// serves, so a canary published there travels through that master only.
absl::StatusOr<std::string> CanaryChannel(const redis::Cluster& cluster, size_t shard,
                                          std::string_view base) {
  // Decimal tags reach every slot well before this bound.
  constexpr uint32_t kMaxTag = 1 << 20;
  for (uint32_t n = 0; n < kMaxTag; ++n) {
    const std::string tag = absl::StrCat(n);
    if (cluster.MasterOf(redis::KeySlot(tag)) == static_cast<int>(shard)) {
      return absl::StrCat(std::string(base), ":{", tag, "}");
    }
  }
  return absl::InternalError(absl::StrCat("no canary tag for master ", shard));
}

std::string Describe(const redis::HostPort& node) { return absl::StrCat(node.host, ":", node.port); }

}  // namespace

bool ClusterSubscriber::MasterFeed::SameSubscriptions(const MasterFeed& other) const {
  // extra_channels is not planned: it goes with the connection that has them.
  return address == other.address && partitions == other.partitions && canary_channel == other.canary_channel;
}

ClusterSubscriber::ClusterSubscriber(redis::Config config, SubscriberOptions options,
                                     SubscriberSink& sink, BridgeMetrics& metrics)
    : RedisFeed("not connected to Redis Cluster yet"),
      config_(std::move(config)),
      options_(std::move(options)),
      sink_(sink),
      metrics_(metrics),
      partitioning_(options_.partitions),
      partition_channels_(PartitionChannels(config_, partitioning_)),
      delivery_(MakePushRouter(config_, options_), sink, metrics),
      heartbeat_(config_, "bridge", options_.instance_id) {}

ClusterSubscriber::~ClusterSubscriber() { Stop(); }

void ClusterSubscriber::ShutdownSockets() {
  // A Cluster command in flight ends within its io timeout.
  for (MasterFeed& feed : feeds_) {
    if (feed.conn && feed.conn->raw() != nullptr) ::shutdown(feed.conn->raw()->fd, SHUT_RDWR);
  }
}

std::string ClusterSubscriber::CanaryMissing(uint64_t id) const {
  using Leg = PendingCanary::Leg;
  absl::MutexLock lock(&mu_);
  for (const PendingCanary& pending : canaries_out_) {
    if (pending.id != id) continue;
    std::vector<std::string> by_leg[3];  // kNotSent, kPublishing, kPublished
    for (size_t i = 0; i < pending.legs.size() && i < feeds_.size(); ++i) {
      if (pending.legs[i] != Leg::kBack) {
        by_leg[static_cast<int>(pending.legs[i])].push_back(Describe(feeds_[i].address));
      }
    }
    // While the thread waits on one master, the others' canaries cannot be
    // read back: that master is the one to name.
    if (!by_leg[1].empty()) return absl::StrCat("master ", by_leg[1][0], " does not answer SPUBLISH");
    if (!by_leg[2].empty()) return absl::StrCat("no canary back through master ", absl::StrJoin(by_leg[2], ", "));
    return absl::StrCat("canary not yet sent to master ", absl::StrJoin(by_leg[0], ", "));
  }
  return "";
}

void ClusterSubscriber::SetDown(std::string reason) {
  const bool down = !reason.empty();
  RedisFeed::SetDown(std::move(reason));
  if (!down) return;
  absl::MutexLock lock(&mu_);
  canaries_out_.clear();
}

void ClusterSubscriber::Run() {
  // Retried at least every 250 ms, as through Sentinel: an attempt costs a
  // CLUSTER SHARDS and a connect, and nothing tells us when a promoted
  // replica enters the slot map (with the default 5 s cap a killed master
  // cost 6.3 s instead of 3-4 s). The same cadence for a master left
  // without a feed while the others deliver.
  redis::Backoff backoff = redis::ReconnectBackoff(config_);
  // Logged once per state change, not at every retry of a long outage.
  std::string logged_reason;
  for (;;) {
    absl::Status status = Sync();
    delivery_.Flush();
    const bool synced = status.ok();
    if (synced) {
      // Masters without a feed: the others deliver meanwhile, /healthz names
      // the missing ones, and they are tried again after the backoff.
      const std::string missing = MissingFeeds();
      const std::string reason = missing.empty() ? "" : absl::StrCat("Redis Cluster: ", missing);
      if (missing.empty()) backoff.Reset();
      if (reason != logged_reason) {
        if (!reason.empty()) log::Warn(absl::StrCat(reason, "; retrying, clients stay connected"));
        logged_reason = reason;
      }
      SetDown(reason);
      connected_.store(true, std::memory_order_release);
      metrics_.redis_connected.store(1, std::memory_order_relaxed);
      // At most a third of the thread's time goes to failed attempts: a
      // refused connect costs nothing (every 100-250 ms), a stalled master
      // its kRetryIoTimeout (every 1 s).
      const absl::Duration retry = std::max(backoff.Next(), 2 * failed_attempts_);
      status = Serve(missing.empty() ? absl::InfiniteFuture() : absl::Now() + retry);
      delivery_.Flush();
      if (status.ok()) continue;  // time to try the missing masters again
    }
    connected_.store(false, std::memory_order_release);
    metrics_.redis_connected.store(0, std::memory_order_relaxed);
    if (stopping()) return;
    if (synced) metrics_.redis_reconnects.fetch_add(1, std::memory_order_relaxed);
    const std::string reason = absl::StrCat("Redis Cluster: ", std::string(status.message()));
    SetDown(reason);
    if (reason != logged_reason) {
      log::Warn(absl::StrCat(reason, "; clients stay connected, resubscribing"));
      logged_reason = reason;
    }
    // A subscription that just ended is resubscribed at once; a failed
    // attempt waits out the backoff.
    if (!synced && !WaitToRetry(backoff.Next())) return;
  }
}

bool ClusterSubscriber::WaitToRetry(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_), delay);
  return !stop_;
}

absl::Status ClusterSubscriber::Sync() {
  if (!cluster_) {
    absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(config_, kConnectTimeout, kIoTimeout);
    if (!cluster.ok()) return cluster.status();
    cluster_ = *std::move(cluster);
  } else if (absl::Status s = cluster_->Refresh(absl::ZeroDuration()); !s.ok()) {
    return s;
  }
  const redis::ClusterTopology& topology = cluster_->topology();
  std::vector<MasterFeed> next(topology.shards.size());
  // The private channel's name, plus a hash tag per master.
  const std::string& canary_base = delivery_.router().canary_channel();
  std::vector<std::string> canaries;
  for (size_t i = 0; i < next.size(); ++i) {
    next[i].address = topology.shards[i].master;
    absl::StatusOr<std::string> canary = CanaryChannel(*cluster_, i, canary_base);
    if (!canary.ok()) return canary.status();
    next[i].canary_channel = *canary;
    canaries.push_back(*std::move(canary));
  }
  absl::StatusOr<std::vector<std::vector<int>>> by_master =
      redis::PartitionsByMaster(partitioning_, *cluster_, config_);
  if (!by_master.ok()) return by_master.status();
  for (size_t i = 0; i < next.size(); ++i) next[i].partitions = std::move((*by_master)[i]);
  std::vector<MasterFeed> retired;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::CancelledError("stopping");
    for (MasterFeed& feed : next) {
      for (MasterFeed& old : feeds_) {
        if (!old.SameSubscriptions(feed)) continue;
        // Subscriptions that did not move are kept: no gap on them.
        if (old.conn && old.conn->ok()) {
          feed.conn = std::move(old.conn);
          feed.extra_channels = old.extra_channels;
          old.conn.reset();
        }
        feed.unreachable = old.unreachable;
      }
    }
    retired.swap(feeds_);
    feeds_ = std::move(next);
  }
  retired.clear();  // closes their sockets, outside the lock
  delivery_.router().SetShardedChannels(partition_channels_, std::move(canaries));
  // Every master we can reach gets its feed; one we cannot is tried again
  // later (Run), and meanwhile the others deliver.
  const auto has_feed = [](const MasterFeed& f) { return f.conn.has_value(); };
  absl::Status first_error;
  bool subscribed_any = false;
  failed_attempts_ = absl::ZeroDuration();
  for (size_t i = 0; i < feeds_.size(); ++i) {
    if (feeds_[i].conn) continue;
    const absl::Time start = absl::Now();
    absl::Status s = SubscribeFeed(feeds_[i]);
    if (s.ok()) {
      prime_needed_ = subscribed_any = true;
      continue;
    }
    failed_attempts_ += absl::Now() - start;
    if (absl::IsCancelled(s) || absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s)) return s;
    if (first_error.ok()) first_error = s;
    DropFeed(i, std::string(s.message()));
  }
  if (!options_.channels.empty() &&
      std::none_of(feeds_.begin(), feeds_.end(),
                   [](const MasterFeed& f) { return f.conn && f.extra_channels; })) {
    for (size_t i = 0; i < feeds_.size(); ++i) {
      if (!feeds_[i].conn) continue;
      absl::Status s = SubscribeExtraChannels(feeds_[i]);
      if (s.ok()) break;
      if (first_error.ok()) first_error = s;
      DropFeed(i, std::string(s.message()));
    }
  }
  // Subscribed first, then read the stored states: anything published in
  // between arrives through the subscriptions, and SeqTracker drops
  // whichever copy of a state comes second.
  if (prime_needed_) {
    if (absl::Status s = Prime(); !s.ok()) return s;
    prime_needed_ = false;
  }
  if (std::none_of(feeds_.begin(), feeds_.end(), has_feed)) {
    return first_error.ok() ? absl::UnavailableError("no master serves a slot") : first_error;
  }
  if (subscribed_any) {  // a retry that changed nothing logs nothing
    const size_t fed = std::count_if(feeds_.begin(), feeds_.end(), has_feed);
    log::Info(absl::StrCat("subscribed to ", partition_channels_.size(), " partition channels on ", fed, " of ",
                           feeds_.size(), " masters of ", config_.Describe()));
  }
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::SubscribeFeed(MasterFeed& feed) {
  absl::StatusOr<redis::Connection> conn = cluster_->OpenMasterConnection(
      feed.address, kConnectTimeout, feed.unreachable.empty() ? kIoTimeout : kRetryIoTimeout);
  if (!conn.ok()) return conn.status();
  // A master that restarted refuses reads (CLUSTERDOWN) until it has
  // rejoined: priming through it then would read nothing. Not reachable yet.
  absl::StatusOr<redis::Reply> info = conn->Command({"CLUSTER", "INFO"});
  if (!info.ok()) return info.status();
  if (!redis::IsTextReply(info->get()) ||
      ReplyText(info->get()).find("cluster_state:ok") == std::string_view::npos) {
    return absl::UnavailableError(absl::StrCat("Redis ", Describe(feed.address),
                                               ": its cluster_state is not ok (rejoining, or the cluster is down)"));
  }
  // One SSUBSCRIBE per channel: a call may only name channels of one slot.
  std::vector<std::string_view> argv = {"SSUBSCRIBE", feed.canary_channel};
  if (absl::Status s = delivery_.Subscribe(*conn, argv); !s.ok()) return s;
  for (const int p : feed.partitions) {
    argv = {"SSUBSCRIBE", partition_channels_[p]};
    if (absl::Status s = delivery_.Subscribe(*conn, argv); !s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  if (stop_) return absl::CancelledError("stopping");
  feed.conn = *std::move(conn);
  feed.extra_channels = false;
  feed.unreachable.clear();
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::SubscribeExtraChannels(MasterFeed& feed) {
  const PushRouter& router = delivery_.router();
  std::vector<std::string_view> argv;
  if (!router.exact_channels().empty()) {
    argv = {"SUBSCRIBE"};
    argv.insert(argv.end(), router.exact_channels().begin(), router.exact_channels().end());
    if (absl::Status s = delivery_.Subscribe(*feed.conn, argv); !s.ok()) return s;
  }
  if (!router.patterns().empty()) {
    argv = {"PSUBSCRIBE"};
    argv.insert(argv.end(), router.patterns().begin(), router.patterns().end());
    if (absl::Status s = delivery_.Subscribe(*feed.conn, argv); !s.ok()) return s;
  }
  feed.extra_channels = true;
  return absl::OkStatus();
}

void ClusterSubscriber::DropFeed(size_t i, std::string why) {
  absl::MutexLock lock(&mu_);
  feeds_[i].conn.reset();
  feeds_[i].extra_channels = false;
  feeds_[i].unreachable = std::move(why);
}

std::string ClusterSubscriber::MissingFeeds() const {
  std::vector<std::string> missing;
  for (const MasterFeed& feed : feeds_) {
    if (feed.conn) continue;
    missing.push_back(absl::StrCat("master ", Describe(feed.address), " not subscribed (", feed.unreachable, ")"));
  }
  if (missing.empty()) return "";
  return absl::StrCat(absl::StrJoin(missing, "; "), "; delivering from ", feeds_.size() - missing.size(), " of ",
                      feeds_.size(), " masters");
}

bool ClusterSubscriber::OnMissingMaster(std::string_view key) const {
  const int shard = cluster_->MasterOf(redis::KeySlot(key));
  if (shard == redis::ClusterTopology::kNoOwner) return false;
  const redis::HostPort& master = cluster_->topology().shards[shard].master;
  return std::any_of(feeds_.begin(), feeds_.end(),
                     [&](const MasterFeed& f) { return !f.conn && f.address == master; });
}

absl::Status ClusterSubscriber::Prime() {
  const std::string match = config_.Key(absl::StrCat(std::string(schema::kStateKeyPrefix), "*"));
  const size_t prefix_size = config_.Key(schema::kStateKeyPrefix).size();
  redis::KeySpace keyspace(*cluster_);
  const auto on_page = [&](std::span<const std::string> keys) {
    return keyspace.Values(keys, [&](size_t i, const redisReply* value) {
      if (value->type != REDIS_REPLY_STRING) return;  // expired meanwhile, or not a string
      delivery_.ForwardStored(std::string_view(keys[i]).substr(prefix_size), redis::ReplyText(value));
    });
  };
  // Every master with a feed: a symbol's state key is on the master of the
  // key's slot, not its partition channel's, so a new feed's symbols may be
  // stored anywhere. A master without a feed is scanned once it has one.
  for (size_t i = 0; i < feeds_.size(); ++i) {
    if (!feeds_[i].conn) continue;
    if (absl::Status s = keyspace.ScanMaster(i, match, on_page); !s.ok()) {
      if (absl::IsCancelled(s) || stopping()) return absl::CancelledError("stopping");
      DropFeed(i, absl::StrCat("reading its stored states: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::RepairSymbol(const std::string& symbol) {
  const std::string key = config_.Key(absl::StrCat(std::string(schema::kStateKeyPrefix), symbol));
  // Read when that master has a feed again (Prime).
  if (OnMissingMaster(key)) return absl::OkStatus();
  absl::StatusOr<redis::Reply> value = cluster_->Command(key, {"GET", key});
  if (!value.ok()) return value.status();
  if ((*value)->type == REDIS_REPLY_STRING) delivery_.ForwardStored(symbol, ReplyText(value->get()));
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::ServeCanaries() {
  using Leg = PendingCanary::Leg;
  const std::vector<uint64_t> ids = TakeCanaryRequests();
  {
    absl::MutexLock lock(&mu_);
    for (const uint64_t id : ids) {
      if (canaries_out_.size() == kMaxPendingCanaries) canaries_out_.pop_front();
      canaries_out_.push_back({id, std::vector<Leg>(feeds_.size(), Leg::kNotSent)});
    }
  }
  for (const uint64_t id : ids) {
    const std::string payload = absl::StrCat(id);
    for (size_t i = 0; i < feeds_.size(); ++i) {
      if (!feeds_[i].conn) continue;  // named by DownReason() meanwhile
      const std::string& channel = feeds_[i].canary_channel;
      SetCanaryLeg(id, i, Leg::kPublishing);
      absl::StatusOr<redis::Reply> r = cluster_->Command(channel, {"SPUBLISH", channel, payload});
      if (!r.ok()) return r.status();
      SetCanaryLeg(id, i, Leg::kPublished);
    }
  }
  return absl::OkStatus();
}

bool ClusterSubscriber::SetCanaryLeg(uint64_t id, size_t feed, PendingCanary::Leg leg) {
  using Leg = PendingCanary::Leg;
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(canaries_out_.begin(), canaries_out_.end(),
                         [id](const PendingCanary& p) { return p.id == id; });
  if (it == canaries_out_.end() || feed >= it->legs.size()) return false;
  // The canary may come back before its SPUBLISH reply is read.
  if (it->legs[feed] != Leg::kBack) it->legs[feed] = leg;
  if (!std::all_of(it->legs.begin(), it->legs.end(), [](Leg l) { return l == Leg::kBack; })) return false;
  canaries_out_.erase(it);
  return true;
}

absl::Status ClusterSubscriber::MaybeHeartbeat() {
  const redis::Heartbeat::Clock::time_point now = redis::Heartbeat::Clock::now();
  const std::string& key = heartbeat_.key();
  // Written again once its master has a feed (DownReason() names it meanwhile).
  if (!heartbeat_.Due(now) || OnMissingMaster(key)) return absl::OkStatus();
  const std::string ttl = absl::StrCat(redis::Heartbeat::kTtl.count());
  absl::StatusOr<redis::Reply> r = cluster_->Command(key, {"SET", key, "1", "EX", ttl});
  if (!r.ok()) return r.status();
  heartbeat_.Written(now);
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::WaitReadable(absl::Duration wait) {
  std::vector<pollfd> fds;
  fds.reserve(feeds_.size() + 1);
  for (MasterFeed& feed : feeds_) {
    if (feed.conn) fds.push_back({feed.conn->raw()->fd, POLLIN, 0});
  }
  fds.push_back({wake_fd_, POLLIN, 0});
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(wait));
  if (poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR) {
    return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
  }
  if (fds.back().revents & POLLIN) {
    uint64_t wakes;
    [[maybe_unused]] const ssize_t n = read(wake_fd_, &wakes, sizeof(wakes));
  }
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::Drain(size_t i) {
  MasterFeed& feed = feeds_[i];
  for (int n = 0; n < kMaxRepliesPerTurn; ++n) {
    absl::StatusOr<redis::Reply> reply = feed.conn->ReadReplyWithin(absl::ZeroDuration());
    if (!reply.ok()) return absl::IsDeadlineExceeded(reply.status()) ? absl::OkStatus() : reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return absl::UnavailableError(absl::StrCat("Redis ", Describe(feed.address), ": ",
                                                 std::string((*reply)->str, (*reply)->len)));
    }
    PushDecision decision = delivery_.Route(**reply);
    if (decision.kind == PushDecision::Kind::kUnsubscribed) {
      // This connection lost a channel: subscribe it afresh, wherever it now is.
      {
        absl::MutexLock lock(&mu_);
        feed.conn.reset();
      }
      return absl::UnavailableError(absl::StrCat("master ", Describe(feed.address),
                                                 " ended a subscription (sunsubscribe: its slot "
                                                 "moved or it failed over)"));
    }
    if (decision.kind == PushDecision::Kind::kCanary) {
      if (SetCanaryLeg(decision.canary_id, decision.canary_source, PendingCanary::Leg::kBack)) {
        sink_.OnCanary(decision.canary_id);
      }
      continue;
    }
    if (const std::string repair = delivery_.Apply(std::move(decision)); !repair.empty()) {
      if (absl::Status s = RepairSymbol(repair); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ClusterSubscriber::Serve(absl::Time resync_at) {
  for (;;) {
    if (stopping()) return absl::CancelledError("stopping");
    if (absl::Now() >= resync_at) return absl::OkStatus();
    if (absl::Status s = ServeCanaries(); !s.ok()) return s;
    if (absl::Status s = MaybeHeartbeat(); !s.ok()) return s;
    const auto now = redis::Heartbeat::Clock::now();
    absl::Duration wait = std::min(kMaxIdleWait, resync_at - absl::Now());
    if (!OnMissingMaster(heartbeat_.key())) {
      wait = heartbeat_.Due(now) ? absl::ZeroDuration()
                                 : std::min(absl::FromChrono(heartbeat_.next_due() - now), wait);
    }
    if (absl::Status s = WaitReadable(std::max(wait, absl::ZeroDuration())); !s.ok()) return s;
    // Every master's waiting replies (hiredis may hold some already read),
    // then the batch goes out.
    for (size_t i = 0; i < feeds_.size(); ++i) {
      if (!feeds_[i].conn) continue;
      if (absl::Status s = Drain(i); !s.ok()) return s;
    }
    delivery_.Flush();
  }
}

}  // namespace physics::bridge
