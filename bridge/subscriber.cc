#include "bridge/subscriber.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/backoff.h"
#include "engine/redis/connection.h"
#include "engine/schema/state_message.h"
#include "engine/schema/timestamp.h"

namespace physics::bridge {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Milliseconds(500);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);
// The longest wait for pub/sub messages before the thread looks at its other
// duties anyway (canary requests and stop wake it at once; the heartbeat sets
// its own, shorter, deadline).
constexpr absl::Duration kMaxIdleWait = absl::Seconds(1);
// With sentinels: how soon an announced master switch is noticed, both by a
// subscription that waits for messages from a stalled master (its connection
// breaks at its next use) and by a reconnect loop waiting out its backoff.
constexpr absl::Duration kSwitchPoll = absl::Milliseconds(50);

using redis::IsTextReply;
using redis::ReplyText;

}  // namespace

Subscriber::Subscriber(redis::Config config, SubscriberOptions options, SubscriberSink& sink,
                       BridgeMetrics& metrics)
    : RedisFeed("not connected to Redis yet"),
      config_(std::move(config)),
      options_(std::move(options)),
      metrics_(metrics),
      delivery_(MakePushRouter(config_, options_), sink, metrics),
      heartbeat_(config_, "bridge", options_.instance_id) {}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::ShutdownSockets() {
  if (sub_ && sub_->raw() != nullptr) ::shutdown(sub_->raw()->fd, SHUT_RDWR);
  if (cmd_ && cmd_->raw() != nullptr) ::shutdown(cmd_->raw()->fd, SHUT_RDWR);
}

void Subscriber::CloseConnections() {
  absl::MutexLock lock(&mu_);
  sub_.reset();
  cmd_.reset();
}

void Subscriber::Run() {
  redis::Backoff backoff = redis::ReconnectBackoff(config_);
  bool connected_before = false;
  // Logged once per state change (as the engine does), not at every retry of
  // a long outage: a new line only when the reason differs.
  std::string logged_reason;
  for (;;) {
    absl::Status status = Connect();
    if (status.ok()) {
      if (connected_before) metrics_.redis_reconnects.fetch_add(1, std::memory_order_relaxed);
      connected_before = true;
      backoff.Reset();
      logged_reason.clear();
      SetDown("");
      connected_.store(true, std::memory_order_release);
      metrics_.redis_connected.store(1, std::memory_order_relaxed);
      log::Info(absl::StrCat("subscribed to ", delivery_.router().state_channel(), " on ", config_.Describe()));
      status = Serve();
      delivery_.Flush();
    }
    connected_.store(false, std::memory_order_release);
    metrics_.redis_connected.store(0, std::memory_order_relaxed);
    CloseConnections();
    const uint64_t switches_at_loss = Switches();
    const absl::Duration delay = backoff.Next();
    const std::string reason = absl::StrCat("Redis unavailable: ", std::string(status.message()));
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      down_reason_ = reason;
      canary_requests_.clear();
    }
    if (reason != logged_reason) {
      log::Warn(absl::StrCat(reason, "; clients stay connected, retrying with backoff"));
      logged_reason = reason;
    }
    if (!WaitToRetry(delay, switches_at_loss)) return;
  }
}

uint64_t Subscriber::Switches() const {
  return config_.uses_sentinels() ? config_.sentinels->switches() : 0;
}

bool Subscriber::WaitToRetry(absl::Duration delay, uint64_t switches_at_loss) {
  const absl::Time deadline = absl::Now() + delay;
  absl::MutexLock lock(&mu_);
  while (!stop_ && Switches() == switches_at_loss) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    // The switch count is an atomic the mutex does not guard: look at it
    // every kSwitchPoll rather than only when the backoff runs out.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), std::min(left, kSwitchPoll));
  }
  return !stop_;
}

absl::Status Subscriber::Connect() {
  absl::StatusOr<redis::Connection> sub = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<redis::Connection> cmd = redis::Connection::Open(config_, kConnectTimeout, kIoTimeout);
  if (!cmd.ok()) return cmd.status();
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::CancelledError("stopping");
    sub_ = *std::move(sub);
    cmd_ = *std::move(cmd);
  }
  if (absl::Status s = Subscribe(); !s.ok()) return s;
  // Subscribed first, then read the stored states: anything published in
  // between arrives through the subscription, and SeqTracker drops whichever
  // copy of a state comes second.
  absl::Status s = Prime();
  delivery_.Flush();
  return s;
}

absl::Status Subscriber::Subscribe() {
  // One command per kind, so Redis sends its confirmations back to back.
  const PushRouter& router = delivery_.router();
  std::vector<std::string_view> argv = {"SUBSCRIBE", router.canary_channel(), router.state_channel()};
  argv.insert(argv.end(), router.exact_channels().begin(), router.exact_channels().end());
  if (absl::Status s = delivery_.Subscribe(*sub_, argv); !s.ok()) return s;
  if (router.patterns().empty()) return absl::OkStatus();
  argv = {"PSUBSCRIBE"};
  argv.insert(argv.end(), router.patterns().begin(), router.patterns().end());
  return delivery_.Subscribe(*sub_, argv);
}

absl::Status Subscriber::Prime() {
  const std::string match = config_.Key(absl::StrCat(std::string(schema::kStateKeyPrefix), "*"));
  const size_t prefix_size = config_.Key(schema::kStateKeyPrefix).size();
  std::string cursor = "0";
  std::vector<std::string_view> mget;
  do {
    absl::StatusOr<redis::Reply> scan = cmd_->Command({"SCAN", cursor, "MATCH", match, "COUNT", "1000"});
    if (!scan.ok()) return scan.status();
    const redisReply* r = scan->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !IsTextReply(r->element[0]) ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("unexpected SCAN reply");
    }
    cursor.assign(ReplyText(r->element[0]));
    const redisReply* keys = r->element[1];
    if (keys->elements == 0) continue;
    mget.assign({"MGET"});
    for (size_t i = 0; i < keys->elements; ++i) mget.push_back(ReplyText(keys->element[i]));
    absl::StatusOr<redis::Reply> values = cmd_->Command(mget);
    if (!values.ok()) return values.status();
    const redisReply* v = values->get();
    if (v->type != REDIS_REPLY_ARRAY || v->elements != keys->elements) {
      return absl::InternalError("unexpected MGET reply");
    }
    for (size_t i = 0; i < v->elements; ++i) {
      if (v->element[i]->type != REDIS_REPLY_STRING) continue;  // expired meanwhile, or not a string
      delivery_.ForwardStored(mget[i + 1].substr(prefix_size), ReplyText(v->element[i]));
    }
  } while (cursor != "0");
  return absl::OkStatus();
}

absl::Status Subscriber::RepairSymbol(const std::string& symbol) {
  absl::StatusOr<redis::Reply> value =
      cmd_->Command({"GET", config_.Key(absl::StrCat(std::string(schema::kStateKeyPrefix), symbol))});
  if (!value.ok()) return value.status();
  if ((*value)->type == REDIS_REPLY_STRING) delivery_.ForwardStored(symbol, ReplyText(value->get()));
  return absl::OkStatus();
}

absl::Status Subscriber::ServeCanaries() {
  for (const uint64_t id : TakeCanaryRequests()) {
    absl::StatusOr<redis::Reply> r = cmd_->Command({"PUBLISH", delivery_.router().canary_channel(), absl::StrCat(id)});
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

absl::Status Subscriber::MaybeHeartbeat() {
  const redis::Heartbeat::Clock::time_point now = redis::Heartbeat::Clock::now();
  if (!heartbeat_.Due(now)) return absl::OkStatus();
  heartbeat_.Append(heartbeat_pipeline_);
  absl::Status s = heartbeat_pipeline_.Execute(*cmd_);
  if (s.ok()) heartbeat_.Written(now);
  return s;
}

absl::Status Subscriber::Serve() {
  for (;;) {
    // While a batch is open, only replies that are already here join it;
    // between batches, the other duties, then sleep until a message, a
    // wake-up or the next heartbeat.
    absl::Duration wait = absl::ZeroDuration();
    if (!delivery_.batch_open()) {
      if (stopping()) return absl::CancelledError("stopping");
      if (absl::Status s = ServeCanaries(); !s.ok()) return s;
      if (absl::Status s = MaybeHeartbeat(); !s.ok()) return s;
      const auto now = redis::Heartbeat::Clock::now();
      if (!heartbeat_.Due(now)) {
        wait = std::min(absl::FromChrono(heartbeat_.next_due() - now),
                        config_.uses_sentinels() ? kSwitchPoll : kMaxIdleWait);
      }
    }
    absl::StatusOr<redis::Reply> reply = sub_->ReadReplyWithin(wait, wake_fd_);
    if (!reply.ok()) {
      delivery_.Flush();
      if (!absl::IsDeadlineExceeded(reply.status())) return reply.status();
      if (wait > absl::ZeroDuration()) {  // woken, or timed out: either way, reset the counter
        uint64_t wakes;
        [[maybe_unused]] const ssize_t n = read(wake_fd_, &wakes, sizeof(wakes));
      }
      continue;
    }
    if (const std::string repair = delivery_.Apply(delivery_.Route(**reply)); !repair.empty()) {
      if (absl::Status s = RepairSymbol(repair); !s.ok()) return s;
    }
  }
}

}  // namespace physics::bridge
