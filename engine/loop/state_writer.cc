#include "engine/loop/state_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/schema/json_writer.h"
#include "engine/schema/state_message.h"
#include "engine/schema/state_reader.h"

namespace physics::loop {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::string LeaderLeaseKey(const redis::Config& config, const WriterOptions& options) {
  std::string key = config.Key("ops:leader:engine");
  if (!options.shard.empty()) absl::StrAppend(&key, ":", options.shard);
  return key;
}

absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> StoredStateSeqs(redis::KeySpace& keys,
                                                                        const std::string& pattern) {
  absl::flat_hash_map<std::string, int64_t> seqs;
  const size_t prefix = pattern.size() - 1;  // without the '*'
  absl::Status scanned = keys.Scan(pattern, [&](std::span<const std::string> page) -> absl::Status {
    return keys.Values(page, [&](size_t i, const redisReply* value) {
      // A state that does not parse counts as seq 0: our own seq then rules.
      absl::StatusOr<schema::StateFields> state = schema::ParseStateJson(redis::ReplyText(value));
      int64_t& seq = seqs[page[i].substr(prefix)];
      if (state.ok()) seq = std::max(seq, state->seq);
    });
  });
  if (!scanned.ok()) return scanned;
  return seqs;
}

StateWriter::StateWriter(redis::Config config, WriterOptions options)
    : config_(std::move(config)),
      options_(options),
      channel_(config_.Key(schema::kStateUpdateChannel)),
      commands_(options.state_ttl_seconds, options.snapshot_ttl_seconds),
      backoff_(redis::ReconnectBackoff(config_)) {
  if (!options_.heartbeat_id.empty()) {
    heartbeat_.emplace(config_, "engine", options_.heartbeat_id, options_.heartbeat_value);
  }
  if (options_.leader_lease > absl::ZeroDuration()) {
    lease_.emplace(absl::ToChronoNanoseconds(options_.leader_lease));
    lease_key_ = LeaderLeaseKey(config_, options_);
    lease_ms_text_ = absl::StrCat(absl::ToInt64Milliseconds(options_.leader_lease));
    state_pattern_ = config_.Key("physics:state:*");
  }
}

absl::Status StateWriter::EnsureConnected() {
  if (conn_) return absl::OkStatus();
  const auto now = std::chrono::steady_clock::now();
  // The sentinels announced a new master since the loss: no reason to wait.
  const bool switched = config_.uses_sentinels() && config_.sentinels->switches() != switches_at_loss_;
  if (now < next_attempt_ && !switched) return absl::UnavailableError("waiting to reconnect");
  absl::StatusOr<redis::Connection> conn =
      redis::Connection::Open(config_, options_.connect_timeout, options_.io_timeout);
  if (!conn.ok()) {
    if (IsConfigurationError(conn.status())) return conn.status();
    ConnectionLost(conn.status());
    return conn.status();
  }
  conn_.emplace(*std::move(conn));
  return absl::OkStatus();
}

void StateWriter::ConnectionLost(const absl::Status& why) {
  conn_.reset();
  pipeline_.Reset();  // nothing more is read from the old connection
  if (config_.uses_sentinels()) switches_at_loss_ = config_.sentinels->switches();
  // The WATCH went with the connection: a leader reclaims before writing again.
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
  if (lease_) {
    // Never waits here: a transaction still being sent, or a renewal too old
    // to send on, leaves the rest to Flush.
    if (lease_->MaySend(Clock::now()) && pipeline_.fully_sent()) {
      AppendFenced(book, /*tick_closed=*/false).IgnoreError();  // Flush sees a loss
    }
    pipeline_.SendNow(*conn_).IgnoreError();
    return;
  }
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
  pipeline.Append(commands_.StateSet(s).view());
}

void StateWriter::AppendSnapshot(const SymbolState& s, redis::Pipeline& pipeline) const {
  const SnapshotHSet hset(s);
  pipeline.Append(hset.view());
  pipeline.Append(commands_.SnapshotExpire(s));
}

absl::Status StateWriter::Flush(SymbolBook& book) {
  const auto now = std::chrono::steady_clock::now();
  // A beat whose replies are owed is written unless that pipeline fails.
  const bool beat = heartbeat_.has_value() && !beat_in_flight_ && heartbeat_->Due(now);
  if (lease_) return lease_->leading() ? FlushLeading(book, beat, now) : FlushStandby(book, beat, now);
  if (book.unwritten().empty() && !beat) return Settle(book);
  if (absl::Status s = EnsureConnected(); !s.ok()) {
    ++counters_.failed_writes;
    pipeline_.Reset();
    appended_ = published_ = 0;
    return s;
  }
  AppendNew(book, /*tick_closed=*/true);
  if (beat) heartbeat_->Append(pipeline_);
  return ExecuteUnfenced(book, beat, now,
                         options_.late_replies ? redis::Pipeline::Replies::kEarlier
                                               : redis::Pipeline::Replies::kAll,
                         /*closes_tick=*/true);
}

absl::Status StateWriter::Settle(SymbolBook& book) {
  if (!conn_ || pipeline_.owed() == 0) return absl::OkStatus();
  // States streamed since the last Flush (none between loop ticks) go out
  // too, but their symbols stay unwritten until the Flush that completes them.
  return ExecuteUnfenced(book, /*beat=*/false, Clock::now(), redis::Pipeline::Replies::kAll,
                         /*closes_tick=*/false);
}

absl::Status StateWriter::ExecuteUnfenced(SymbolBook& book, bool beat, Clock::time_point now,
                                          redis::Pipeline::Replies replies, bool closes_tick) {
  const size_t commands = pipeline_.size();
  absl::Status status = pipeline_.Execute(*conn_, replies);  // clears the pipeline
  if (closes_tick) appended_ = published_ = 0;
  if (commands > 0) {
    ++counters_.pipelines;
    counters_.commands += static_cast<int64_t>(commands);
  }
  if (absl::IsUnavailable(status) || !conn_->ok()) {
    ++counters_.failed_writes;
    appended_ = published_ = 0;
    // What the earlier pipeline wrote is unknown now: write it again.
    book.MarkUnwritten(in_flight_);
    in_flight_.clear();
    beat_in_flight_ = false;
    ConnectionLost(status);
    return absl::UnavailableError(status.message());
  }
  NoteErrorReplies(status);
  NoteWritten(book);
  // Every earlier pipeline's replies are read by now.
  in_flight_.clear();
  if (beat_in_flight_) heartbeat_->Written(beat_sent_);
  beat_in_flight_ = false;
  if (!closes_tick) return absl::OkStatus();
  if (pipeline_.owed() > 0) {  // this one's are left for later
    in_flight_.assign(book.unwritten().begin(), book.unwritten().end());
    beat_in_flight_ = beat;
    beat_sent_ = now;
  } else if (beat) {
    heartbeat_->Written(now);
  }
  book.MarkAllWritten();
  return absl::OkStatus();
}

// Every reply was read. Error replies (e.g. a key of the wrong type put there
// by someone else) are reported; retrying them would fail the same way.
void StateWriter::NoteErrorReplies(const absl::Status& status) {
  if (status.ok()) return;
  ++counters_.error_replies;
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_error_log_) {  // at most one line per 10 s, not one per tick
    next_error_log_ = now + std::chrono::seconds(10);
    log::Warn(absl::StrCat("Redis rejected part of a write (", counters_.error_replies,
                           " pipelines so far): ", status.message()));
  }
}

void StateWriter::NoteWritten(const SymbolBook& book) {
  if (reported_down_) {
    reported_down_ = false;
    log::Info(absl::StrCat("Redis at ", config_.Describe(), " is back; wrote the latest state of ",
                              book.unwritten().size(), " symbols"));
  }
  backoff_.Reset();
}

absl::Status StateWriter::FlushStandby(SymbolBook& book, bool beat, Clock::time_point now) {
  // The states are the leader's to write; a takeover continues from the
  // stored ones (TryLead), never from these.
  book.MarkAllWritten();
  pipeline_.Clear();
  appended_ = published_ = 0;
  if (!beat) return absl::OkStatus();
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  heartbeat_->Append(pipeline_);
  absl::Status status = pipeline_.Execute(*conn_);
  if (absl::IsUnavailable(status) || !conn_->ok()) {
    ConnectionLost(status);
    return absl::UnavailableError(status.message());
  }
  NoteErrorReplies(status);
  heartbeat_->Written(now);
  return absl::OkStatus();
}

absl::Status StateWriter::FlushLeading(SymbolBook& book, bool beat, Clock::time_point now) {
  const bool renew = lease_->RenewalDue(now);
  if (book.unwritten().empty() && !beat && !renew) return absl::OkStatus();
  absl::Status status = absl::OkStatus();
  if (!conn_) {  // a new connection has no WATCH: check the lease is still ours
    status = EnsureConnected();
    if (status.ok()) {
      absl::StatusOr<Claim> claim = ClaimLease();
      if (!claim.ok()) {
        status = claim.status();
      } else if (*claim == Claim::kKept) {
        lease_->Acquired(now);
      } else {  // lapsed while we were away: a new leadership starts from the stored seqs
        LoseLease(*claim == Claim::kOther ? "another engine holds it"
                                          : "it lapsed while Redis was unreachable");
        status = absl::AbortedError("lost the lease");
      }
    }
  }
  if (status.ok()) status = AppendFenced(book, /*tick_closed=*/true);
  if (status.ok() && renew && book.unwritten().empty()) {
    status = BeforeTransaction();
    if (status.ok()) {
      pipeline_.Append({"MULTI"});
      EndTransaction();
    }
  }
  if (status.ok()) {
    if (beat) heartbeat_->Append(pipeline_);
    status = Drain();
  }
  appended_ = published_ = 0;
  if (absl::IsAborted(status)) {  // a standby now: the next leader writes
    book.MarkAllWritten();
    return absl::OkStatus();
  }
  if (!status.ok()) {
    pipeline_.Clear();
    if (absl::IsUnavailable(status)) ++counters_.failed_writes;
    return status;
  }
  if (first_write_pending_ && !book.unwritten().empty()) {
    first_write_pending_ = false;
    log::Info(absl::StrCat("first write as leader ",
                              std::chrono::duration_cast<std::chrono::milliseconds>(
                                  Clock::now() - took_lease_at_).count(),
                              " ms after taking the lease"));
  }
  NoteWritten(book);
  book.MarkAllWritten();
  if (beat) heartbeat_->Written(now);
  return absl::OkStatus();
}

absl::Status StateWriter::AppendFenced(const SymbolBook& book, bool tick_closed) {
  const auto& unwritten = book.unwritten();
  if (appended_ < unwritten.size()) {
    if (absl::Status s = BeforeTransaction(); !s.ok()) return s;
    pipeline_.Append({"MULTI"});
    for (; appended_ < unwritten.size(); ++appended_) AppendState(*unwritten[appended_], pipeline_);
    EndTransaction();
  }
  while (appended_ - published_ >= kPublishesPerTransaction || (tick_closed && published_ < appended_)) {
    const size_t end = std::min(appended_, published_ + kPublishesPerTransaction);
    if (absl::Status s = BeforeTransaction(); !s.ok()) return s;
    pipeline_.Append({"MULTI"});
    for (size_t i = published_; i < end; ++i) {
      pipeline_.Append({"PUBLISH", channel_, unwritten[i]->event_json});
    }
    EndTransaction();
    if (absl::Status s = BeforeTransaction(); !s.ok()) return s;
    pipeline_.Append({"MULTI"});
    for (size_t i = published_; i < end; ++i) AppendSnapshot(*unwritten[i], pipeline_);
    EndTransaction();
    published_ = end;
  }
  return absl::OkStatus();
}

absl::Status StateWriter::BeforeTransaction() {
  if (pipeline_.fully_sent() && lease_->MaySend(Clock::now())) return absl::OkStatus();
  if (absl::Status s = Drain(); !s.ok()) return s;
  if (lease_->MaySend(Clock::now())) return absl::OkStatus();
  pipeline_.Append({"MULTI"});
  EndTransaction();
  return Drain();
}

void StateWriter::EndTransaction() {
  pipeline_.Append({"SET", lease_key_, options_.heartbeat_id, "PX", lease_ms_text_});
  pipeline_.Append({"EXEC"});
  // EXEC unwatches every key; this WATCH keeps one standing until the next EXEC.
  pipeline_.Append({"WATCH", lease_key_});
  lease_->Sent(Clock::now());
  pipeline_.SendNow(*conn_).IgnoreError();  // an error breaks the connection; Drain reports it
}

absl::Status StateWriter::Drain() {
  const size_t commands = pipeline_.size();
  absl::Status status = pipeline_.Execute(*conn_);  // clears the pipeline
  ++counters_.pipelines;
  counters_.commands += static_cast<int64_t>(commands);
  if (absl::IsUnavailable(status) || !conn_->ok()) {
    ConnectionLost(status);
    return absl::UnavailableError(status.message());
  }
  if (pipeline_.null_replies() > 0) {
    LoseLease("another engine took it (a fenced write was refused)");
    return absl::AbortedError("lost the lease");
  }
  NoteErrorReplies(status);
  lease_->Confirmed();
  return absl::OkStatus();
}

void StateWriter::LoseLease(std::string_view why) {
  pipeline_.Clear();
  if (lease_->Lost()) {
    log::Warn(absl::StrCat("lost the leader lease ", lease_key_, " (",
                              absl::string_view(why.data(), why.size()),
                              "); standing by, writing nothing until it is ours again"));
  }
}

absl::StatusOr<StateWriter::Claim> StateWriter::ClaimLease() {
  absl::StatusOr<redis::Reply> set =
      conn_->Command({"SET", lease_key_, options_.heartbeat_id, "NX", "PX", lease_ms_text_});
  if (set.ok()) {
    // UNWATCH first: a WATCH left by an earlier claim saw the old leader's
    // renewals, and would abort our first transaction.
    absl::StatusOr<redis::Reply> watch = conn_->Command({"UNWATCH"});
    if (watch.ok()) watch = conn_->Command({"WATCH", lease_key_});
    if (watch.ok()) {
      absl::StatusOr<redis::Reply> get = conn_->Command({"GET", lease_key_});
      if (get.ok()) {
        if (redis::ReplyText(get->get()) != options_.heartbeat_id) return Claim::kOther;
        return (*set)->type == REDIS_REPLY_NIL ? Claim::kKept : Claim::kTaken;
      }
      set = get.status();
    } else {
      set = watch.status();
    }
  }
  if (!conn_->ok()) ConnectionLost(set.status());
  return set.status();
}

bool StateWriter::TryLead(SymbolBook* book) {
  if (leading()) return true;
  if (!EnsureConnected().ok()) return false;
  const auto sent = Clock::now();
  absl::StatusOr<Claim> claim = ClaimLease();
  if (!claim.ok() || *claim == Claim::kOther) return false;
  if (book != nullptr) {
    redis::KeySpace keys(*conn_);
    absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> seqs = StoredStateSeqs(keys, state_pattern_);
    if (!seqs.ok()) {
      if (!conn_->ok()) ConnectionLost(seqs.status());
      return false;
    }
    book->RaiseSeqs(*std::move(seqs));
  }
  lease_->Acquired(sent);
  took_lease_at_ = sent;
  first_write_pending_ = true;
  log::Info(absl::StrCat("leading: holding the leader lease ", lease_key_, " (",
                            absl::FormatDuration(options_.leader_lease), ")"));
  return true;
}

bool StateWriter::ConfirmLease() {
  if (!lease_ || !lease_->leading()) return leading();
  // Disconnected: nothing to ask; the clock alone decides (Flush re-claims).
  if (!conn_) return lease_->MaySend(Clock::now());
  // Errors are handled inside: a refused renewal loses the lease, an I/O
  // error the connection (the next Flush re-claims before writing).
  BeforeTransaction().IgnoreError();
  return leading();
}

void StateWriter::ReleaseLease() {
  if (!lease_ || !lease_->leading() || !conn_) return;
  pipeline_.Clear();
  appended_ = published_ = 0;
  // Deleted only if still ours: the standing WATCH aborts the EXEC otherwise.
  pipeline_.Append({"MULTI"});
  pipeline_.Append({"DEL", lease_key_});
  pipeline_.Append({"EXEC"});
  pipeline_.Execute(*conn_).IgnoreError();
  lease_->Released();
}

void StateWriter::RemoveHeartbeat() {
  if (!heartbeat_.has_value() || !conn_.has_value()) return;
  pipeline_.Clear();
  appended_ = published_ = 0;
  heartbeat_->AppendRemove(pipeline_);
  pipeline_.Execute(*conn_).IgnoreError();
}

}  // namespace physics::loop
