#include "engine/feed/partitioned_stream_feed.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace physics::feed {
namespace {

using Clock = std::chrono::steady_clock;

// One round reads every drained partition once, so it waits at most about
// this long (each read waits its share), like the one-stream feed's BLOCK.
constexpr auto kRoundBlock = std::chrono::milliseconds(100);
// A drained partition is read again by rounds that do not block at most this
// often (a replay of history would otherwise read every empty partition
// twice per loop tick).
constexpr auto kDrainedFresh = std::chrono::milliseconds(10);
// While a partition's Redis is unreachable, rounds are this far apart.
constexpr auto kWaitingPause = std::chrono::milliseconds(20);
// Following: a drained partition with entries pending counts once read this
// long after the latest evidence that the leader wrote the loop ticks before
// the next one (its acknowledgements of the partitions, one after another,
// have landed by then).
constexpr auto kFollowSettle = std::chrono::milliseconds(20);
// FoldUpTo's ceiling that folds nothing: every partition just reads its next entry.
constexpr int64_t kPeek = std::numeric_limits<int64_t>::min();

}  // namespace

PartitionedStreamFeed::PartitionedStreamFeed(const redis::Config& config, StreamFeedOptions options,
                                             const redis::Partitioning& parts,
                                             const std::vector<int>& owned)
    : config_(config), options_(std::move(options)), following_(options_.follow) {
  const std::string stream = config.Key(options_.key), dlq = config.Key(options_.key + ":dlq");
  for (const int p : owned) {
    StreamFeedOptions part = options_;
    part.stream_key = parts.Stream(stream, p);
    part.dlq_key = parts.Stream(dlq, p);
    if (config.uses_cluster()) {
      part.open = [this, slot = parts.Slot(p)] { return OpenMaster(slot); };
    }
    partitions_.push_back(Partition{.feed = std::make_unique<StreamFeed>(config, std::move(part))});
  }
}

absl::StatusOr<redis::Connection> PartitionedStreamFeed::OpenMaster(uint16_t slot) {
  // The feed gives up on any other code than kUnavailable: only refused
  // credentials and a seed that is no cluster node are fatal here; anything
  // else about the slot map is retried.
  const auto retryable = [](const absl::Status& s) {
    return absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s) || absl::IsFailedPrecondition(s)
               ? s
               : absl::UnavailableError(s.message());
  };
  if (!cluster_) {
    absl::StatusOr<redis::Cluster> opened =
        redis::Cluster::Open(config_, options_.connect_timeout, options_.io_timeout);
    if (!opened.ok()) return retryable(opened.status());
    cluster_.emplace(*std::move(opened));
  } else if (absl::Status s = cluster_->Refresh(); !s.ok()) {
    return retryable(s);
  }
  const int master = cluster_->MasterOf(slot);
  if (master == redis::ClusterTopology::kNoOwner) {
    return absl::UnavailableError(absl::StrCat("no master serves slot ", slot, " of ", config_.Describe()));
  }
  return cluster_->OpenMasterConnection(cluster_->topology().shards[static_cast<size_t>(master)].master,
                                        options_.connect_timeout, options_.io_timeout);
}

absl::StatusOr<PollResult> PartitionedStreamFeed::Poll(SteadyTime deadline, TickSink& sink,
                                                       const Interrupt& interrupted) {
  const Clock::duration per_read = std::max<Clock::duration>(
      std::chrono::milliseconds(1), kRoundBlock / static_cast<int64_t>(partitions_.size()));
  // A round's reads of drained partitions return at once, unless the last
  // round settled nothing: then each waits its share of kRoundBlock.
  bool block = false;
  while (!interrupted.requested()) {
    // One round: every partition folds what belongs to the open loop tick
    // (or, with none open, reads its next entry) and says where it stands.
    bool waiting = false, drained = false;
    std::optional<int64_t> next;
    for (Partition& part : partitions_) {
      const SteadyTime now = Clock::now();
      if (!following_ && !block && SkipDrained(part, now)) {
        drained = true;
        continue;
      }
      SteadyTime read_until = now;
      if (block) {  // but not past the open bucket's grace: the close is due then
        read_until = std::min(deadline, now + per_read);
        if (open_) read_until = std::min(read_until, GraceEndSteady(*open_, now));
      }
      absl::StatusOr<StreamFeed::Progress> progress =
          part.feed->FoldUpTo(open_.value_or(kPeek), read_until, sink, interrupted);
      if (!progress.ok()) return progress.status();
      part.drained_at.reset();
      if (*progress != StreamFeed::Progress::kPast) part.past_at.reset();
      switch (*progress) {
        case StreamFeed::Progress::kPast:
          next = std::min(next.value_or(part.feed->next_bucket()), part.feed->next_bucket());
          if (!part.past_at || part.past_bucket != part.feed->next_bucket()) {
            part.past_at = Clock::now();
            part.past_bucket = part.feed->next_bucket();
          }
          break;
        case StreamFeed::Progress::kDrained:
          drained = true;
          part.drained_at = Clock::now();
          part.drained_at_us = static_cast<long double>(schema::NowEpochMicros());
          break;
        case StreamFeed::Progress::kWaiting:
          waiting = true;
          break;
      }
    }
    if (following_) {
      // A standby closes loop ticks on what the leader acknowledged only: its
      // grace closes are not the standby's to guess (like one stream's).
      const Follow follow = waiting ? Follow::kWait : FollowState();
      if (follow == Follow::kSettled) {
        if (open_) return Close();
        open_ = next;
        continue;
      }
      if (Clock::now() >= deadline) return PollResult::kIdle;
      if (follow == Follow::kWait) {
        interrupted.WaitUntil(std::min<SteadyTime>(deadline, Clock::now() + kFollowSettle));
      }
      continue;
    }
    if (!waiting) {
      if (open_ && (!drained || StreamFeed::GraceExpired(*open_, options_.hz, options_.grace))) {
        return Close();
      }
      if (!open_ && next) {  // every partition is known: the lowest next bucket opens
        open_ = next;
        block = false;
        continue;
      }
    }
    if (Clock::now() >= deadline) return PollResult::kIdle;
    block = true;
    if (waiting) interrupted.WaitUntil(std::min<SteadyTime>(deadline, Clock::now() + kWaitingPause));
  }
  // On shutdown the open loop tick stays open, its entries unacked: the next
  // run folds them into the same bucket.
  return PollResult::kIdle;
}

SteadyTime PartitionedStreamFeed::GraceEndSteady(int64_t bucket, SteadyTime now) const {
  const long double left_us = StreamFeed::GraceEnd(bucket, options_.hz, options_.grace) -
                              static_cast<long double>(schema::NowEpochMicros());
  return now + std::chrono::microseconds(static_cast<int64_t>(std::max<long double>(0, left_us)));
}

bool PartitionedStreamFeed::SkipDrained(const Partition& part, SteadyTime now) const {
  return part.drained_at && now - *part.drained_at < kDrainedFresh &&
         (!open_ || part.drained_at_us >= StreamFeed::GraceEnd(*open_, options_.hz, options_.grace));
}

PollResult PartitionedStreamFeed::Close() {
  bool write = false;
  for (Partition& part : partitions_) write = part.feed->EndTick() || write;
  open_.reset();
  return write ? PollResult::kCloseTick : PollResult::kReplayTick;
}

void PartitionedStreamFeed::OnWritten() {
  for (Partition& part : partitions_) part.feed->OnWritten();
}

void PartitionedStreamFeed::Lead(std::function<bool()> still_leading) {
  if (!following_) return;
  following_ = false;
  for (Partition& part : partitions_) {
    part.feed->Lead(still_leading);  // asked before each read of the group
    part.drained_at.reset();
    part.past_at.reset();
  }
}

bool PartitionedStreamFeed::derives_seq() const {
  return std::all_of(partitions_.begin(), partitions_.end(),
                     [](const Partition& part) { return part.feed->derives_seq(); });
}

PartitionedStreamFeed::Follow PartitionedStreamFeed::FollowState() const {
  std::optional<SteadyTime> evidence;
  for (const Partition& part : partitions_) {
    if (part.past_at) evidence = std::max(evidence.value_or(*part.past_at), *part.past_at);
  }
  if (!evidence) return Follow::kWait;  // every partition drained: nothing says the leader moved on
  bool read_again = false;
  for (const Partition& part : partitions_) {
    if (part.past_at) continue;
    if (!part.drained_at) return Follow::kWait;
    if (*part.drained_at <= *evidence) {
      read_again = true;  // read before the evidence, in this round or an earlier one
    } else if (!part.feed->nothing_pending() && *part.drained_at < *evidence + kFollowSettle) {
      return Follow::kWait;  // entries pending, maybe of loop ticks written, their XACK on its way
    }
  }
  return read_again ? Follow::kReadAgain : Follow::kSettled;
}

}  // namespace physics::feed
