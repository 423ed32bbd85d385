#include "engine/loop/state_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/schema/json_writer.h"
#include "engine/schema/state_message.h"

namespace physics::loop {
namespace {

bool IsAuthError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnauthenticated ||
         s.code() == absl::StatusCode::kPermissionDenied;
}

}  // namespace

StateWriter::StateWriter(redis::Config config, WriterOptions options)
    : config_(std::move(config)),
      options_(options),
      channel_(config_.Key(schema::kStateUpdateChannel)),
      state_ttl_text_(absl::StrCat(options.state_ttl_seconds)),
      snapshot_ttl_text_(absl::StrCat(options.snapshot_ttl_seconds)) {
  if (!options_.heartbeat_id.empty()) heartbeat_.emplace(config_, "engine", options_.heartbeat_id);
}

absl::Status StateWriter::EnsureConnected() {
  if (conn_) return absl::OkStatus();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return absl::UnavailableError("waiting to reconnect");
  absl::StatusOr<redis::Connection> conn =
      redis::Connection::Open(config_, options_.connect_timeout, options_.io_timeout);
  if (!conn.ok()) {
    if (IsAuthError(conn.status())) return conn.status();
    ConnectionLost(conn.status());
    return conn.status();
  }
  conn_.emplace(*std::move(conn));
  return absl::OkStatus();
}

void StateWriter::ConnectionLost(const absl::Status& why) {
  conn_.reset();
  const absl::Duration wait = backoff_.Next();
  next_attempt_ = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(wait);
  if (!reported_down_) {
    reported_down_ = true;
    log::Warn(absl::StrCat("Redis at ", config_.Describe(), " unavailable (", why.message(),
                              "); computing on, keeping the latest state per symbol, "
                              "retrying with backoff"));
  }
}

void StateWriter::AppendNew(const SymbolBook& book, bool tick_closed) {
  const auto& unwritten = book.unwritten();
  for (; appended_ < unwritten.size(); ++appended_) AppendState(*unwritten[appended_], pipeline_);
  while (appended_ - published_ >= kPublishesPerTransaction || (tick_closed && published_ < appended_)) {
    const size_t end = std::min(appended_, published_ + kPublishesPerTransaction);
    AppendPublishesAndSnapshots(unwritten, published_, end, pipeline_);
    published_ = end;
  }
}

void StateWriter::Stream(const SymbolBook& book) {
  if (!conn_) return;
  AppendNew(book, /*tick_closed=*/false);
  // An error here breaks the connection; Flush() reports it and reconnects.
  pipeline_.SendNow(*conn_).IgnoreError();
}

void StateWriter::AppendCommands(const SymbolBook& book, redis::Pipeline& pipeline) const {
  const auto& unwritten = book.unwritten();
  for (size_t begin = 0; begin < unwritten.size(); begin += kPublishesPerTransaction) {
    const size_t end = std::min(unwritten.size(), begin + kPublishesPerTransaction);
    for (size_t i = begin; i < end; ++i) AppendState(*unwritten[i], pipeline);
    AppendPublishesAndSnapshots(unwritten, begin, end, pipeline);
  }
}

void StateWriter::AppendPublishesAndSnapshots(std::span<SymbolState* const> unwritten, size_t begin,
                                              size_t end, redis::Pipeline& pipeline) const {
  pipeline.Append({"MULTI"});
  for (size_t i = begin; i < end; ++i) pipeline.Append({"PUBLISH", channel_, unwritten[i]->event_json});
  pipeline.Append({"EXEC"});
  for (size_t i = begin; i < end; ++i) AppendSnapshot(*unwritten[i], pipeline);
}

void StateWriter::AppendState(const SymbolState& s, redis::Pipeline& pipeline) const {
  if (options_.state_ttl_seconds > 0) {
    pipeline.Append({"SET", s.state_key, s.state_json, "EX", state_ttl_text_});
  } else {
    pipeline.Append({"SET", s.state_key, s.state_json});
  }
}

void StateWriter::AppendSnapshot(const SymbolState& s, redis::Pipeline& pipeline) const {
  char price[schema::kJsonNumberBufferSize], volume[schema::kJsonNumberBufferSize];
  char bid[schema::kJsonNumberBufferSize], ask[schema::kJsonNumberBufferSize];
  char seconds[schema::kJsonNumberBufferSize];
  // A quote never seen is written as an empty field rather than a made-up price.
  const std::string_view bid_text = std::isnan(s.bid) ? "" : schema::FormatJsonNumber(s.bid, bid);
  const std::string_view ask_text = std::isnan(s.ask) ? "" : schema::FormatJsonNumber(s.ask, ask);
  const auto seconds_end =
      std::to_chars(seconds, seconds + sizeof(seconds), s.timestamp / 1'000'000).ptr;
  pipeline.Append({"HSET", s.snapshot_key, "price", schema::FormatJsonNumber(s.price, price),
                    "volume", schema::FormatJsonNumber(s.volume, volume), "bid", bid_text, "ask",
                    ask_text, "timestamp",
                    std::string_view(seconds, static_cast<size_t>(seconds_end - seconds))});
  pipeline.Append({"EXPIRE", s.snapshot_key, snapshot_ttl_text_});
}

absl::Status StateWriter::Flush(SymbolBook& book) {
  const auto now = std::chrono::steady_clock::now();
  const bool beat = heartbeat_.has_value() && heartbeat_->Due(now);
  if (book.unwritten().empty() && !beat) return absl::OkStatus();
  if (absl::Status s = EnsureConnected(); !s.ok()) {
    ++counters_.failed_writes;
    pipeline_.Clear();
    appended_ = published_ = 0;
    return s;
  }
  AppendNew(book, /*tick_closed=*/true);
  if (beat) heartbeat_->Append(pipeline_);
  const size_t commands = pipeline_.size();
  absl::Status status = pipeline_.Execute(*conn_);  // clears the pipeline
  appended_ = published_ = 0;
  ++counters_.pipelines;
  counters_.commands += static_cast<int64_t>(commands);
  if (absl::IsUnavailable(status) || !conn_->ok()) {
    ++counters_.failed_writes;
    ConnectionLost(status);
    return absl::UnavailableError(status.message());
  }
  // Every reply was read. Error replies (e.g. a key of the wrong type put there
  // by someone else) are reported; retrying them would fail the same way.
  if (!status.ok()) {
    ++counters_.error_replies;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_error_log_) {  // at most one line per 10 s, not one per tick
      next_error_log_ = now + std::chrono::seconds(10);
      log::Warn(absl::StrCat("Redis rejected part of a write (", counters_.error_replies,
                                " pipelines so far): ", status.message()));
    }
  }
  if (reported_down_) {
    reported_down_ = false;
    log::Info(absl::StrCat("Redis at ", config_.Describe(), " is back; wrote the latest state of ",
                              book.unwritten().size(), " symbols"));
  }
  backoff_.Reset();
  book.MarkAllWritten();
  if (beat) heartbeat_->Written(now);
  return absl::OkStatus();
}

void StateWriter::RemoveHeartbeat() {
  if (!heartbeat_.has_value() || !conn_.has_value()) return;
  pipeline_.Clear();
  appended_ = published_ = 0;
  heartbeat_->AppendRemove(pipeline_);
  pipeline_.Execute(*conn_).IgnoreError();
}

}  // namespace physics::loop
