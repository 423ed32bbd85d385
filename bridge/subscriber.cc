#include "bridge/subscriber.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/backoff.h"
#include "engine/redis/connection.h"
#include "engine/schema/event_header.h"
#include "engine/schema/state_message.h"
#include "engine/schema/symbol.h"
#include "engine/schema/timestamp.h"
#include "simdjson.h"

namespace physics::bridge {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Milliseconds(500);
constexpr absl::Duration kIoTimeout = absl::Seconds(2);
// The longest wait for pub/sub messages before the thread looks at its other
// duties anyway (canary requests and stop wake it at once; the heartbeat sets
// its own, shorter, deadline).
constexpr absl::Duration kMaxIdleWait = absl::Seconds(1);
// At most this many messages are handed to the io thread at once.
constexpr size_t kMaxBatch = 256;

using redis::IsTextReply;
using redis::ReplyText;

// Logs the 1st, 2nd, 4th, 8th... occurrence, so a misbehaving publisher
// cannot flood the log.
bool ShouldLog(uint64_t count) { return (count & (count - 1)) == 0; }

}  // namespace

Subscriber::Subscriber(redis::Config config, SubscriberOptions options, SubscriberSink& sink,
                       BridgeMetrics& metrics)
    : config_(std::move(config)),
      options_(std::move(options)),
      sink_(sink),
      metrics_(metrics),
      state_channel_(config_.Key(schema::kStateUpdateChannel)),
      canary_channel_(config_.Key(absl::StrCat("physics-bridge:canary:", options_.instance_id))),
      heartbeat_(config_, "bridge", options_.instance_id),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  for (size_t i = 0; i < options_.channels.size(); ++i) {
    const std::string& entry = options_.channels[i];
    const auto stream = static_cast<StreamId>(i + 1);
    if (entry.find_first_of("*?[") != std::string::npos) {
      patterns_.push_back(config_.Key(entry));
      pattern_streams_.push_back(stream);
    } else {
      exact_channels_.push_back(config_.Key(entry));
      exact_streams_.push_back(stream);
    }
  }
}

Subscriber::~Subscriber() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Subscriber::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  // Fails only when the counter is about to overflow: the thread is awake then.
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void Subscriber::Start() {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "bridge-redis");  // for top -H and perf
}

void Subscriber::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  // Wakes a thread blocked in a read or write; the thread still owns (and
  // closes) the sockets, so no descriptor is reused under it.
  if (sub_ && sub_->raw() != nullptr) ::shutdown(sub_->raw()->fd, SHUT_RDWR);
  if (cmd_ && cmd_->raw() != nullptr) ::shutdown(cmd_->raw()->fd, SHUT_RDWR);
  Wake();
}

void Subscriber::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void Subscriber::RequestCanary(uint64_t id) {
  if (!connected_.load(std::memory_order_acquire)) return;
  {
    absl::MutexLock lock(&mu_);
    canary_requests_.push_back(id);
  }
  Wake();
}

std::string Subscriber::DownReason() const {
  absl::MutexLock lock(&mu_);
  return down_reason_;
}

void Subscriber::SetDown(std::string reason) {
  absl::MutexLock lock(&mu_);
  down_reason_ = std::move(reason);
  if (!down_reason_.empty()) canary_requests_.clear();
}

void Subscriber::CloseConnections() {
  absl::MutexLock lock(&mu_);
  sub_.reset();
  cmd_.reset();
}

void Subscriber::Run() {
  redis::Backoff backoff;
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
      log::Info(absl::StrCat("subscribed to ", state_channel_, " on ", config_.Describe()));
      status = Serve();
      FlushBatch();
    }
    connected_.store(false, std::memory_order_release);
    metrics_.redis_connected.store(0, std::memory_order_relaxed);
    CloseConnections();
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
    // Sleeps for the backoff, or until RequestStop().
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), delay);
    if (stop_) return;
  }
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
  FlushBatch();
  return s;
}

absl::Status Subscriber::Subscribe() {
  // One command per kind, so Redis sends its confirmations back to back; any
  // message that arrives among them is handled like any other.
  const auto collect = [this](std::span<const std::string_view> argv) -> absl::Status {
    size_t confirmed = 0;
    absl::StatusOr<redis::Reply> reply = sub_->Command(argv);
    for (;;) {
      if (!reply.ok()) return reply.status();
      const redisReply* r = reply->get();
      if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && IsTextReply(r->element[0]) &&
          (ReplyText(r->element[0]) == "subscribe" || ReplyText(r->element[0]) == "psubscribe")) {
        if (++confirmed == argv.size() - 1) return absl::OkStatus();
      } else {
        std::optional<std::string> ignored;  // Prime() follows and repairs everything
        HandlePush(*r, &ignored);
      }
      reply = sub_->ReadReply();
    }
  };
  std::vector<std::string_view> argv = {"SUBSCRIBE", canary_channel_, state_channel_};
  argv.insert(argv.end(), exact_channels_.begin(), exact_channels_.end());
  if (absl::Status s = collect(argv); !s.ok()) return s;
  if (patterns_.empty()) return absl::OkStatus();
  argv = {"PSUBSCRIBE"};
  argv.insert(argv.end(), patterns_.begin(), patterns_.end());
  return collect(argv);
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
      ForwardStored(mget[i + 1].substr(prefix_size), ReplyText(v->element[i]));
    }
  } while (cursor != "0");
  return absl::OkStatus();
}

absl::Status Subscriber::RepairSymbol(const std::string& symbol) {
  absl::StatusOr<redis::Reply> value =
      cmd_->Command({"GET", config_.Key(absl::StrCat(std::string(schema::kStateKeyPrefix), symbol))});
  if (!value.ok()) return value.status();
  if ((*value)->type == REDIS_REPLY_STRING) ForwardStored(symbol, ReplyText(value->get()));
  return absl::OkStatus();
}

void Subscriber::ForwardStored(std::string_view symbol, std::string_view state_json) {
  std::string normalized, event;
  schema::EventHeader header;
  absl::Status s = schema::NormalizeSymbol(symbol, normalized);
  if (s.ok() && normalized != symbol) s = absl::InvalidArgumentError("symbol is not upper case");
  if (s.ok()) s = schema::EventFromStateJson(normalized, state_json, event);
  std::shared_ptr<OutFrame> frame;
  if (s.ok()) {
    frame = BuildMessageFrame(schema::kStateUpdateChannel, event, true);
    s = schema::ParseEventHeader(frame->data(), true, header);
  }
  if (!s.ok()) {
    const uint64_t n = metrics_.bad_messages.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ShouldLog(n)) {
      log::Warn(absl::StrCat("skipping stored state ", std::string(schema::kStateKeyPrefix),
                                std::string(symbol), ": ", std::string(s.message())));
    }
    return;
  }
  if (!SeqTracker::Forwards(seqs_.Observe(header.symbol, header.seq, header.timestamp))) return;
  frame->stream = kStateStream;
  frame->symbol = std::move(header.symbol);
  frame->seq = header.seq;
  frame->received_ns = SteadyNowNs();
  metrics_.repairs.fetch_add(1, std::memory_order_relaxed);
  Emit(std::move(frame));
}

void Subscriber::HandlePush(const redisReply& reply, std::optional<std::string>* needs_repair) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3 || !IsTextReply(reply.element[0])) return;
  const std::string_view kind = ReplyText(reply.element[0]);
  std::string_view channel, payload;
  std::optional<StreamId> stream;
  if (kind == "message") {
    channel = ReplyText(reply.element[1]);
    payload = ReplyText(reply.element[2]);
    if (channel == canary_channel_) {
      uint64_t id = 0;
      std::from_chars(payload.data(), payload.data() + payload.size(), id);
      sink_.OnCanary(id);
      return;
    }
    if (channel == state_channel_) {
      stream = kStateStream;
    } else {
      for (size_t i = 0; i < exact_channels_.size(); ++i) {
        if (channel == exact_channels_[i]) stream = exact_streams_[i];
      }
    }
  } else if (kind == "pmessage" && reply.elements == 4) {
    const std::string_view pattern = ReplyText(reply.element[1]);
    channel = ReplyText(reply.element[2]);
    payload = ReplyText(reply.element[3]);
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (pattern == patterns_[i]) stream = pattern_streams_[i];
    }
  }
  if (!stream) return;  // confirmations and anything not asked for
  metrics_.messages_in.fetch_add(1, std::memory_order_relaxed);
  // The messages of one batch arrived together: they share the first one's
  // time (which also lets a client's write observe its latency once per batch).
  const int64_t received_ns = batch_.empty() ? SteadyNowNs() : batch_.front()->received_ns;
  // Clients see channel names without the namespace, as they subscribe.
  const size_t ns_size = config_.Key("").size();
  const std::string_view client_channel = channel.substr(std::min(ns_size, channel.size()));

  std::shared_ptr<OutFrame> frame;
  schema::EventHeader header;
  if (*stream == kStateStream) {
    frame = BuildMessageFrame(schema::kStateUpdateChannel, payload, true);
    if (absl::Status s = schema::ParseEventHeader(frame->data(), true, header); !s.ok()) {
      const uint64_t n = metrics_.bad_messages.fetch_add(1, std::memory_order_relaxed) + 1;
      if (ShouldLog(n)) {
        log::Warn(absl::StrCat("dropping bad ", state_channel_, " message (", n,
                                  " so far): ", std::string(s.message())));
      }
      return;
    }
    if (header.timestamp) metrics_.redis_latency.Observe(schema::NowEpochMicros() - *header.timestamp);
    const SeqTracker::Verdict verdict = seqs_.Observe(header.symbol, header.seq, header.timestamp);
    if (verdict == SeqTracker::Verdict::kStale) {
      metrics_.stale_messages.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (verdict == SeqTracker::Verdict::kGap) {
      metrics_.seq_gaps.fetch_add(1, std::memory_order_relaxed);
      *needs_repair = header.symbol;
    }
  } else {
    // Extra channels carry whatever their publishers send: forwarded verbatim
    // when it is JSON, as a JSON string when it is other UTF-8 text.
    if (!simdjson::validate_utf8(payload.data(), payload.size())) {
      metrics_.bad_messages.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    thread_local simdjson::dom::parser validator;
    frame = BuildMessageFrame(client_channel, payload, true);
    if (validator.parse(frame->data().data(), frame->data().size(), false).error()) {
      frame = BuildMessageFrame(client_channel, payload, false);
    } else if (!schema::ParseEventHeader(frame->data(), true, header).ok()) {
      header = {};
    }
  }
  frame->stream = *stream;
  frame->symbol = std::move(header.symbol);
  frame->seq = header.seq;
  frame->received_ns = received_ns;
  Emit(std::move(frame));
}

void Subscriber::Emit(std::shared_ptr<OutFrame> frame) {
  batch_.push_back(std::move(frame));
  if (batch_.size() >= kMaxBatch) FlushBatch();
}

void Subscriber::FlushBatch() {
  if (batch_.empty()) return;
  std::vector<FramePtr> frames;
  frames.reserve(kMaxBatch);
  frames.swap(batch_);
  sink_.OnFrames(std::move(frames));
}

absl::Status Subscriber::ServeCanaries() {
  std::vector<uint64_t> ids;
  {
    absl::MutexLock lock(&mu_);
    ids.swap(canary_requests_);
  }
  for (const uint64_t id : ids) {
    absl::StatusOr<redis::Reply> r = cmd_->Command({"PUBLISH", canary_channel_, absl::StrCat(id)});
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
    if (batch_.empty()) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return absl::CancelledError("stopping");
      }
      if (absl::Status s = ServeCanaries(); !s.ok()) return s;
      if (absl::Status s = MaybeHeartbeat(); !s.ok()) return s;
      const auto now = redis::Heartbeat::Clock::now();
      if (!heartbeat_.Due(now)) {
        wait = std::min(absl::FromChrono(heartbeat_.next_due() - now), kMaxIdleWait);
      }
    }
    absl::StatusOr<redis::Reply> reply = sub_->ReadReplyWithin(wait, wake_fd_);
    if (!reply.ok()) {
      FlushBatch();
      if (!absl::IsDeadlineExceeded(reply.status())) return reply.status();
      if (wait > absl::ZeroDuration()) {  // woken, or timed out: either way, reset the counter
        uint64_t wakes;
        [[maybe_unused]] const ssize_t n = read(wake_fd_, &wakes, sizeof(wakes));
      }
      continue;
    }
    std::optional<std::string> needs_repair;
    HandlePush(**reply, &needs_repair);
    if (needs_repair) {
      if (absl::Status s = RepairSymbol(*needs_repair); !s.ok()) return s;
    }
  }
}

}  // namespace physics::bridge
