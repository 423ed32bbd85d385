#include "engine/feed/stream_feed.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/connection.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {
namespace {

using Clock = std::chrono::steady_clock;

// Longest single wait inside Poll, so a shutdown request is seen promptly.
constexpr auto kMaxBlock = std::chrono::milliseconds(100);
// How often a follower that has read everything acknowledged asks again.
constexpr auto kFollowPoll = std::chrono::milliseconds(50);

}  // namespace

StreamFeed::StreamFeed(const redis::Config& config, StreamFeedOptions options)
    : group_(config, StreamGroupOptions{
                         .key = options.stream_key.empty() ? config.Key(options.key) : options.stream_key,
                         .dlq_key = options.dlq_key.empty() ? config.Key(options.key + ":dlq") : options.dlq_key,
                         .group = options.group,
                         .consumer = options.consumer,
                         .connect_timeout = options.connect_timeout,
                         .io_timeout = options.io_timeout,
                         .open = options.open}),
      options_(std::move(options)),
      source_("stream " + group_.options().key),
      phase_(options_.follow ? Phase::kFollow : Phase::kStart),
      backoff_(redis::ReconnectBackoff(config)) {}

void StreamFeed::ConnectionLost(const absl::Status& why) {
  group_.Disconnect();
  next_attempt_ = Clock::now() + absl::ToChronoNanoseconds(backoff_.Next());
  if (!reported_down_) {
    reported_down_ = true;
    log::Warn(absl::StrCat(source_, ": Redis at ", group_.Describe(), " unavailable (",
                              why.message(), "); the open loop tick waits, reading resumes "
                              "with backoff"));
  }
}

bool StreamFeed::EnsureReady(absl::Status& fatal) {
  if (!group_.connected()) {
    if (Clock::now() < next_attempt_) return false;
    if (absl::Status s = group_.Connect(); !s.ok()) {
      if (absl::IsUnavailable(s)) {
        ConnectionLost(s);
      } else {  // the key is not a stream, or Redis refused us: retrying won't help
        fatal = absl::Status(s.code(), absl::StrCat(source_, ": ", s.message()));
      }
      return false;
    }
    backoff_.Reset();
    if (reported_down_) {
      reported_down_ = false;
      log::Info(absl::StrCat(source_, ": Redis at ", group_.Describe(), " is back; reading on"));
    }
    // A read whose reply was lost may have delivered entries we never saw;
    // a promoted replica may have lost our acknowledgements: our whole PEL
    // is read again, from its start.
    if (phase_ == Phase::kLive) {
      recover_own_pending_ = true;
      own_cursor_ = StreamId{};
      counting_redelivered_ = true;
    }
  }
  if (phase_ == Phase::kStart) {
    if (absl::Status s = WarmStart(); !s.ok()) {
      ConnectionLost(s);
      return false;
    }
  }
  return true;
}

absl::Status StreamFeed::WarmStart() {
  absl::StatusOr<StreamId> last = group_.LastDeliveredId();
  if (!last.ok()) return last.status();
  if (absl::Status s = group_.ClaimAllPending(pending_); !s.ok()) return s;
  if (absl::Status s = group_.DropIdleConsumers(); !s.ok() && !group_.connected()) return s;
  // A follower has folded everything up to last_taken_ already: pending
  // entries there are acknowledged with the next write, not folded again.
  size_t folded_before = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (*it <= last_taken_) {
      ack_ids_.push_back(*it);
      pending_.erase(it++);
      ++folded_before;
    } else {
      ++it;
    }
  }
  replay_until_ = *last;
  next_claim_ = Clock::now() + kClaimEvery;
  phase_ = replay_until_ <= replay_after_ ? Phase::kLive : Phase::kReplay;
  if (followed_) {
    log::Info(absl::StrCat(source_, ": group ", options_.group, ", consumer ", options_.consumer,
                              "; taking over: followed up to ", replay_after_.ToString(),
                              ", catching up to ", replay_until_.ToString(), ", ",
                              pending_.size() + folded_before, " pending entries taken over (",
                              folded_before, " already folded, acknowledged without folding again)"));
  } else {
    log::Info(absl::StrCat(source_, ": group ", options_.group, ", consumer ", options_.consumer,
                              "; warm start: re-folding the history up to ", replay_until_.ToString(),
                              ", ", pending_.size(), " pending entries taken over"));
  }
  return absl::OkStatus();
}

void StreamFeed::Lead(std::function<bool()> still_leading) {
  if (phase_ != Phase::kFollow) return;
  still_leading_ = std::move(still_leading);
  phase_ = Phase::kStart;
  followed_ = true;
  replayed_entries_ = replayed_ticks_ = 0;
}

void StreamFeed::UseBatch(redis::Reply reply, const redisReply* entries, bool replayed, bool claimed) {
  batch_ = std::move(reply);
  entries_ = entries;
  next_entry_ = 0;
  batch_replayed_ = replayed;
  batch_claimed_ = claimed;
}

absl::StatusOr<bool> StreamFeed::FetchRange(StreamId until) {
  if (replay_after_ >= until) return false;
  absl::StatusOr<redis::Reply> page = group_.Range(replay_after_, until, options_.batch);
  if (!page.ok()) return page.status();
  if ((*page)->elements == 0) {  // trimmed or deleted meanwhile: nothing left up to `until`
    replay_after_ = until;
    return false;
  }
  const redisReply* entries = page->get();
  replay_after_ = *StreamId::Parse(redis::ReplyText(entries->element[entries->elements - 1]->element[0]));
  UseBatch(*std::move(page), entries, /*replayed=*/true, /*claimed=*/false);
  return true;
}

absl::StatusOr<bool> StreamFeed::FetchClaimed() {
  next_claim_ = Clock::now() + kClaimEvery;
  absl::StatusOr<redis::Reply> claimed = group_.ClaimIdleOfOthers(options_.claim_idle, options_.batch);
  if (!claimed.ok()) return claimed.status();
  if (*claimed == nullptr || (*claimed)->elements == 0) return false;
  const redisReply* entries = claimed->get();
  const auto id_of = [&](size_t i) {
    const redisReply* e = entries->element[i];
    return std::string(e->type == REDIS_REPLY_ARRAY && e->elements > 0 ? redis::ReplyText(e->element[0])
                                                                        : std::string_view("?"));
  };
  log::Warn(absl::StrCat(source_, ": ", entries->elements, " entries pending over ",
                            absl::FormatDuration(options_.claim_idle),
                            " under other consumers claimed (ids ", id_of(0), " to ",
                            id_of(entries->elements - 1),
                            "; a stalled engine took them): folded into the open loop tick"));
  UseBatch(*std::move(claimed), entries, /*replayed=*/false, /*claimed=*/true);
  return true;
}

absl::StatusOr<bool> StreamFeed::Fetch(SteadyTime deadline) {
  if (phase_ == Phase::kFollow) {
    if (!history_checked_) {
      absl::StatusOr<bool> complete = group_.HistoryComplete();
      if (!complete.ok()) return complete.status();
      history_checked_ = true;
      history_complete_ = *complete;
      if (!history_complete_) {
        log::Info(absl::StrCat(source_, ": the stream has been trimmed: following what is left; "
                                  "on takeover seq continues from the stored states"));
      }
    }
    if (replay_after_ >= follow_until_) {
      absl::StatusOr<StreamId> until = group_.AcknowledgedUntil(&follow_nothing_pending_);
      if (!until.ok()) return until.status();
      follow_until_ = *until;
    }
    return FetchRange(follow_until_);
  }
  if (phase_ == Phase::kReplay) {
    absl::StatusOr<bool> got = FetchRange(replay_until_);
    if (!got.ok() || *got) return got;
    phase_ = Phase::kLive;
    log::Info(absl::StrCat(source_, followed_ ? ": caught up: " : ": warm start done: ",
                              replayed_entries_, " entries re-folded, ", replayed_ticks_,
                              " loop ticks already in Redis not written again; reading new entries"));
  }
  if (options_.claim_idle > absl::ZeroDuration() && Clock::now() >= next_claim_) {
    absl::StatusOr<bool> got = FetchClaimed();
    if (!got.ok() || *got) return got;
  }
  while (true) {
    const std::optional<StreamId> own = recover_own_pending_ ? std::optional(own_cursor_) : std::nullopt;
    auto block = std::min<Clock::duration>(kMaxBlock, deadline - Clock::now());
    if (open_has_ticks_) {  // wake when the open bucket's grace runs out
      const long double end_us = GraceEnd(*bucket_, options_.hz, options_.grace);
      block = std::min<Clock::duration>(
          block, std::chrono::microseconds(static_cast<int64_t>(
                     std::max<long double>(0, end_us - static_cast<long double>(schema::NowEpochMicros())))));
    }
    absl::StatusOr<redis::Reply> reply =
        group_.Read(options_.batch, absl::FromChrono(block), own);
    if (!reply.ok()) return reply.status();
    const redisReply* entries = StreamGroup::Entries(*reply);
    if (entries != nullptr && entries->elements > 0) {
      if (own) {
        const redisReply* last = entries->element[entries->elements - 1];
        if (last->type == REDIS_REPLY_ARRAY && last->elements > 0) {
          own_cursor_ = StreamId::Parse(redis::ReplyText(last->element[0])).value_or(own_cursor_);
        }
      }
      UseBatch(*std::move(reply), entries, /*replayed=*/false, /*claimed=*/false);
      return true;
    }
    if (!own) {  // drained
      if (counting_redelivered_) ReportRedelivered();
      return false;
    }
    recover_own_pending_ = false;
  }
}

StreamFeed::Step StreamFeed::Take(const redisReply* entry, bool replayed, bool claimed,
                                  TickSink& sink) {
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) return Step::kFolded;
  const std::optional<StreamId> parsed = StreamId::Parse(redis::ReplyText(entry->element[0]));
  if (!parsed) return Step::kFolded;
  const StreamId id = *parsed;
  // Claimed from a stalled consumer: delivered to it, never to us, so never
  // folded, even when older than what we have read since (folded late).
  if (id <= last_taken_ && !claimed) {
    // Delivered again (a failover lost the delivery or our XACK, the group
    // was re-created, or our own pending entries were re-read): already
    // folded; acknowledge it with the open tick, since this server has it
    // pending now (an earlier XACK may have reached it before this delivery).
    // Counted when we had acknowledged it already.
    if (!replayed) {
      open_ids_.push_back(id);
      if (id <= acked_until_) ++redelivered_;
    }
    return Step::kFolded;
  }
  if (counting_redelivered_ && !replayed && !recover_own_pending_) ReportRedelivered();
  last_taken_ = std::max(last_taken_, id);
  // Replayed entries were written by an earlier run, unless still pending.
  const bool tracked = !replayed || pending_.contains(id);
  if (replayed) ++replayed_entries_;
  const redisReply* fields = entry->element[1];
  if (fields->type != REDIS_REPLY_ARRAY) {  // deleted from the stream: nothing to fold
    if (tracked) open_ids_.push_back(id);
    return Step::kFolded;
  }
  TickFieldReader reader(tick_);
  absl::Status s;
  for (size_t i = 0; s.ok() && i + 1 < fields->elements; i += 2) {
    s = reader.Read(redis::ReplyText(fields->element[i]), redis::ReplyText(fields->element[i + 1]));
  }
  if (s.ok()) s = reader.Finish(id);
  if (s.ok()) s = schema::ValidateTick(tick_);
  if (!s.ok()) {
    if (tracked) Reject(entry, id, s, sink);  // else dead-lettered by the earlier run
    return Step::kFolded;
  }
  const int64_t bucket = EventBucket(tick_.timestamp, options_.hz);
  if (ceiling_ ? bucket > *ceiling_ : open_has_ticks_ && bucket > *bucket_) {
    held_ = true;
    held_bucket_ = bucket;
    held_tracked_ = tracked;
    held_id_ = id;
    return Step::kNextBucket;
  }
  if (!bucket_ || bucket > *bucket_) bucket_ = bucket;
  sink.Accept(tick_);
  open_has_ticks_ = true;
  if (tracked) {
    open_ids_.push_back(id);
    open_needs_write_ = true;
  }
  return Step::kFolded;
}

void StreamFeed::Reject(const redisReply* entry, StreamId id, const absl::Status& why,
                        TickSink& sink) {
  origin_text_.assign(source_).append(" entry ");
  id.AppendTo(origin_text_);
  sink.Reject(TickOrigin{origin_text_, 0}, why);
  DeadLetter letter{id, {}, std::string(why.message())};
  const redisReply* fields = entry->element[1];
  for (size_t i = 0; i < fields->elements; ++i) letter.fields.emplace_back(redis::ReplyText(fields->element[i]));
  dead_letters_.push_back(std::move(letter));
}

PollResult StreamFeed::CloseOpen() {
  const PollResult result = open_needs_write_ ? PollResult::kCloseTick : PollResult::kReplayTick;
  if (result == PollResult::kReplayTick) ++replayed_ticks_;
  ack_ids_.insert(ack_ids_.end(), open_ids_.begin(), open_ids_.end());
  open_ids_.clear();
  open_has_ticks_ = false;
  open_needs_write_ = false;
  return result;
}

void StreamFeed::ReportRedelivered() {
  log::Info(absl::StrCat(source_, ": reconnected; ", redelivered_,
                            " entries delivered again that this engine had already acknowledged "
                            "(ids up to ", acked_until_.ToString(),
                            "), skipped and acknowledged again"));
  counting_redelivered_ = false;
  redelivered_ = 0;
}

long double StreamFeed::GraceEnd(int64_t bucket, double hz, absl::Duration grace) {
  return (static_cast<long double>(bucket) + 1) * 1e6L / hz + absl::ToDoubleMicroseconds(grace);
}

void StreamFeed::ReleaseHeld(TickSink& sink) {
  held_ = false;
  bucket_ = std::max(bucket_.value_or(held_bucket_), held_bucket_);
  sink.Accept(tick_);
  open_has_ticks_ = true;
  if (held_tracked_) {
    open_ids_.push_back(held_id_);
    open_needs_write_ = true;
  }
}

absl::StatusOr<PollResult> StreamFeed::Poll(SteadyTime deadline, TickSink& sink,
                                            const Interrupt& interrupted) {
  if (held_) ReleaseHeld(sink);  // the first entry of this loop tick, read by the last call
  while (true) {
    // On shutdown the open loop tick is left open, its entries unacked: the
    // next run folds them into the same bucket, so a restart never splits one.
    if (interrupted.requested()) return PollResult::kIdle;
    while (entries_ != nullptr && next_entry_ < entries_->elements) {
      if (Take(entries_->element[next_entry_++], batch_replayed_, batch_claimed_, sink) ==
          Step::kNextBucket) {
        return CloseOpen();
      }
    }
    entries_ = nullptr;
    absl::Status fatal;
    if (!EnsureReady(fatal)) {
      if (!fatal.ok()) return fatal;
      if (Clock::now() >= deadline) return PollResult::kIdle;
      interrupted.WaitUntil(std::min(deadline, next_attempt_));
      continue;
    }
    // A leader stalled past its lease takes nothing more from the group once
    // another engine leads (what it had pulled, the new leader claimed).
    if (phase_ == Phase::kLive && still_leading_ && !still_leading_()) {
      interrupted.WaitUntil(deadline);  // the loop learns why (lost, or Redis away) meanwhile
      return PollResult::kIdle;
    }
    absl::StatusOr<bool> got = Fetch(deadline);
    if (!got.ok()) {
      ConnectionLost(got.status());  // includes NOGROUP: reconnecting re-creates the group
      continue;
    }
    if (*got) continue;
    if (phase_ == Phase::kFollow) {
      // Like a warm start, a follower closes loop ticks on the data only: the
      // leader's grace closes are not its to guess.
      if (Clock::now() >= deadline) return PollResult::kIdle;
      interrupted.WaitUntil(std::min<SteadyTime>(deadline, Clock::now() + kFollowPoll));
      continue;
    }
    if (open_has_ticks_ && GraceExpired(*bucket_, options_.hz, options_.grace)) return CloseOpen();
    if (Clock::now() >= deadline) return PollResult::kIdle;
  }
}

absl::StatusOr<StreamFeed::Progress> StreamFeed::FoldUpTo(int64_t ceiling, SteadyTime deadline,
                                                          TickSink& sink, const Interrupt& interrupted) {
  ceiling_ = ceiling;
  if (held_) {
    if (held_bucket_ > ceiling) return Progress::kPast;
    ReleaseHeld(sink);
  }
  while (!interrupted.requested()) {
    while (entries_ != nullptr && next_entry_ < entries_->elements) {
      if (Take(entries_->element[next_entry_++], batch_replayed_, batch_claimed_, sink) ==
          Step::kNextBucket) {
        return Progress::kPast;
      }
    }
    entries_ = nullptr;
    absl::Status fatal;
    if (!EnsureReady(fatal)) {
      if (!fatal.ok()) return fatal;
      return Progress::kWaiting;
    }
    // As in Poll: a leader stalled past its lease takes nothing more.
    if (phase_ == Phase::kLive && still_leading_ && !still_leading_()) return Progress::kWaiting;
    absl::StatusOr<bool> got = Fetch(deadline);
    if (!got.ok()) {
      ConnectionLost(got.status());
      return Progress::kWaiting;
    }
    if (!*got) return Progress::kDrained;
  }
  return Progress::kWaiting;
}

bool StreamFeed::EndTick() {
  if (!open_has_ticks_ && open_ids_.empty()) return false;
  return CloseOpen() == PollResult::kCloseTick;
}

void StreamFeed::OnWritten() {
  if ((dead_letters_.empty() && ack_ids_.empty()) || !group_.connected()) return;
  size_t done = 0;
  for (; done < dead_letters_.size(); ++done) {
    const DeadLetter& d = dead_letters_[done];
    if (absl::Status s = group_.DeadLetter(d.id, d.fields, d.reason); !s.ok()) {
      // In id order: a later entry must not overtake one that failed.
      if (!group_.connected()) {
        ConnectionLost(s);
      } else if (Clock::now() >= next_error_log_) {
        next_error_log_ = Clock::now() + std::chrono::seconds(10);
        log::Warn(absl::StrCat(source_, ": cannot dead-letter entry ", d.id.ToString(), ": ",
                                  s.message(), "; it stays pending and is retried"));
      }
      break;
    }
    ack_ids_.push_back(d.id);
  }
  dead_letters_.erase(dead_letters_.begin(), dead_letters_.begin() + static_cast<ptrdiff_t>(done));
  if (ack_ids_.empty() || !group_.connected()) return;
  if (absl::Status s = group_.Ack(ack_ids_); s.ok()) {
    acked_until_ = std::max(acked_until_, *std::max_element(ack_ids_.begin(), ack_ids_.end()));
    ack_ids_.clear();
  } else if (!group_.connected()) {
    ConnectionLost(s);
  } else if (Clock::now() >= next_error_log_) {
    next_error_log_ = Clock::now() + std::chrono::seconds(10);
    log::Warn(absl::StrCat(source_, ": XACK failed: ", s.message(), "; retrying after the next write"));
  }
}

}  // namespace physics::feed
