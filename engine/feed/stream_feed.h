// The Redis stream feed (--feed stream[:KEY], docs/SPEC.md §2, §4): reads
// market:ticks through consumer group physics-engine, loses nothing across
// engine crashes and Redis restarts, and gives the same state as a run
// without faults.
//  - Event time, like csv replay: an entry belongs to bucket
//    floor(timestamp * hz); a loop tick closes when an entry of a later bucket
//    arrives, or, once the stream is drained, when the wall clock has passed
//    the bucket's end by the grace, so a quiet stream still publishes.
//    An entry older than the current bucket is folded into the current one.
//  - At-least-once: an entry is XACKed only after the loop tick that used it
//    has been written (OnWritten). Invalid entries go to market:ticks:dlq
//    (their fields plus `reason`, under their own id) and are then XACKed.
//  - Warm start: windows live in memory only, so on start the feed re-folds
//    the history the group has already delivered (XRANGE up to its
//    last-delivered-id) as kReplayTick loop ticks that are not written
//    again, after taking over every entry still pending in the group; loop
//    ticks holding such entries are written (kCloseTick) and then acked.
//  - Standby (follow, docs/SPEC.md §9): an engine that does not hold the
//    leader lease reads the entries the group has acknowledged (XRANGE up to
//    StreamGroup::AcknowledgedUntil, no consumer, nothing taken) and folds them
//    like a warm start, as kReplayTick loop ticks. Lead() turns it into the
//    group's consumer: it takes over the pending entries, catches up from its
//    own position to the group's last-delivered-id and reads on, so seq
//    continues exactly and nothing is folded twice.
//  - Stalled consumers: while leading with a lease, every kClaimEvery the
//    entries pending longer than the lease under other consumers are claimed
//    and folded into the open loop tick (a stalled old leader may have pulled
//    them after the takeover).
//  - Failover: after any reconnect, our own pending entries are re-read from
//    the start; entries the (new) master delivers again are skipped and
//    acknowledged again, and those this engine had already acknowledged are
//    counted and logged once per reconnect.
// docs/engine.md, "Live feeds", has the full story and its limits.
// Not thread-safe: polled by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_STREAM_FEED_H_
#define PHYSICS_ENGINE_FEED_STREAM_FEED_H_

#include <chrono>
#include <functional>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "engine/feed/feed.h"
#include "engine/feed/stream_entry.h"
#include "engine/feed/stream_group.h"
#include "engine/redis/backoff.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {

struct StreamFeedOptions {
  std::string key = "market:ticks";  // without the namespace
  std::string group = "physics-engine";
  std::string consumer;              // "{hostname}-{pid}" (redis::InstanceId)
  double hz = 1;
  // How long past a bucket's end a drained stream waits for late entries
  // before the bucket is closed.
  absl::Duration grace = absl::Milliseconds(500);
  size_t batch = 1000;  // entries per XREADGROUP / XRANGE
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration io_timeout = absl::Seconds(2);
  // Lease mode (docs/SPEC.md §9): start as a follower, until Lead().
  bool follow = false;
  // > 0 (the lease): claim entries pending longer than this under other
  // consumers, at most every kClaimEvery.
  absl::Duration claim_idle = absl::ZeroDuration();
  // A partition's stream (PartitionedStreamFeed): the namespaced names of
  // the stream and its dead-letter stream (redis::Partitioning::Stream), and
  // how to reach the master serving them. Empty: KEY and KEY:dlq on the
  // config's server.
  std::string stream_key = "", dlq_key = "";
  std::function<absl::StatusOr<redis::Connection>()> open = nullptr;
};

class StreamFeed final : public Feed {
 public:
  StreamFeed(const redis::Config& config, StreamFeedOptions options);

  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;
  bool event_time() const override { return true; }
  // A follower becomes the group's consumer: the next Poll takes over the
  // pending entries and catches up to the group's last-delivered-id. No-op
  // when not following.
  void Lead(std::function<bool()> still_leading) override;
  // False when the stream had lost entries (trimmed) before this feed began
  // to follow it: its seqs then count fewer updates than the leader's.
  bool derives_seq() const override { return history_complete_; }
  // Dead-letters the rejected entries, then XACKs every entry of the loop
  // ticks closed so far. Failures keep them for the next call.
  void OnWritten() override;

  // Partitioned streams: one StreamFeed per partition, the caller
  // (PartitionedStreamFeed) decides when the loop tick closes, instead of Poll.
  enum class Progress {
    kPast,     // the next entry belongs to a later bucket: next_bucket()
    kDrained,  // a read that waited until the deadline brought nothing
    kWaiting,  // Redis is unreachable (backing off), the lease is lost, or shutdown was requested
  };
  // Folds the entries of buckets up to `ceiling` (and older ones) into `sink`
  // and stops at the first entry of a later bucket, kept for the next call.
  // Rejected entries are dead-lettered as by Poll. An error is fatal. While
  // following, it reads what the group acknowledged and never waits: kDrained
  // then means nothing more is acknowledged yet.
  absl::StatusOr<Progress> FoldUpTo(int64_t ceiling, SteadyTime deadline, TickSink& sink,
                                    const Interrupt& interrupted);
  // The bucket of the entry kept by FoldUpTo. REQUIRES: it returned kPast.
  int64_t next_bucket() const { return held_bucket_; }
  // Following: whether the group had nothing pending when last asked how far
  // it has acknowledged (every entry delivered to the leader was acknowledged).
  bool nothing_pending() const { return follow_nothing_pending_; }
  // Ends the loop tick the caller closed: its entries are acknowledged by the
  // next OnWritten. True when it held entries not yet written.
  bool EndTick();
  // The wall-clock time (epoch microseconds) `grace` after the end of
  // `bucket`, and whether it has passed.
  static long double GraceEnd(int64_t bucket, double hz, absl::Duration grace);
  static bool GraceExpired(int64_t bucket, double hz, absl::Duration grace) {
    return static_cast<long double>(schema::NowEpochMicros()) >= GraceEnd(bucket, hz, grace);
  }

 private:
  // kFollow: standing by, reading what the group acknowledged; kStart: the
  // warm start (or the takeover) is due; kReplay: re-folding up to
  // replay_until_; kLive: the group's consumer.
  enum class Phase { kFollow, kStart, kReplay, kLive };
  static constexpr auto kClaimEvery = std::chrono::seconds(5);
  enum class Step { kFolded, kNextBucket };

  struct DeadLetter {
    StreamId id;
    std::vector<std::string> fields;  // name, value, name, value, ...
    std::string reason;
  };

  // Connects (honouring the backoff) and runs the start-up steps that are
  // still due. False while Redis is unreachable; a fatal error in `fatal`.
  bool EnsureReady(absl::Status& fatal);
  absl::Status WarmStart();
  void ConnectionLost(const absl::Status& why);
  // Reads the next batch into batch_ (XRANGE while following or replaying,
  // the claim of stalled consumers' entries when due, else XREADGROUP).
  // False when nothing came.
  absl::StatusOr<bool> Fetch(SteadyTime deadline);
  // XRANGE (replay_after_, until]: false when nothing is left.
  absl::StatusOr<bool> FetchRange(StreamId until);
  // Claims entries idle over the lease under other consumers: true when some came.
  absl::StatusOr<bool> FetchClaimed();
  void UseBatch(redis::Reply reply, const redisReply* entries, bool replayed, bool claimed);
  // Folds entry `entry` of the batch, or holds it when it opens a later
  // bucket while the current one has ticks.
  Step Take(const redisReply* entry, bool replayed, bool claimed, TickSink& sink);
  // Logs and counts a rejected entry and queues it for the dead-letter stream.
  void Reject(const redisReply* entry, StreamId id, const absl::Status& why, TickSink& sink);
  // Folds the entry kept by the last Take into a new loop tick.
  void ReleaseHeld(TickSink& sink);
  // Ends the open loop tick: its entries become ackable after the write.
  PollResult CloseOpen();
  // Logs (and resets) the count of entries delivered again since the reconnect.
  void ReportRedelivered();

  StreamGroup group_;
  StreamFeedOptions options_;
  std::string source_;  // "stream KEY" for log lines
  Phase phase_;
  redis::Backoff backoff_;
  std::chrono::steady_clock::time_point next_attempt_{};
  bool reported_down_ = false;
  bool recover_own_pending_ = false;  // after a reconnect: re-read our PEL first
  StreamId own_cursor_;               // where that re-read has got to

  // After a failover (docs/engine.md, "Live feeds"): entries delivered again
  // although this engine had acknowledged them (id <= acked_until_), counted
  // from a reconnect until reading gets past last_taken_ or drains, then
  // logged in one line.
  StreamId acked_until_;              // highest id an XACK of ours succeeded for
  bool counting_redelivered_ = false;
  int64_t redelivered_ = 0;

  // Warm start, following and catching up.
  StreamId follow_until_;                      // the group acknowledged up to here
  bool follow_nothing_pending_ = false;        // when follow_until_ was asked
  StreamId replay_until_;                      // the group's last-delivered-id
  StreamId replay_after_;                      // last entry replayed
  absl::flat_hash_set<StreamId> pending_;      // taken over at start
  int64_t replayed_entries_ = 0;
  int64_t replayed_ticks_ = 0;
  bool followed_ = false;                      // Lead() ended a follow
  bool history_checked_ = false;               // follow: HistoryComplete asked at the first read
  bool history_complete_ = true;
  std::function<bool()> still_leading_;        // from Lead()
  std::chrono::steady_clock::time_point next_claim_{};

  // Reading.
  redis::Reply batch_;
  const redisReply* entries_ = nullptr;
  size_t next_entry_ = 0;
  bool batch_replayed_ = false;
  bool batch_claimed_ = false;  // from stalled consumers: older than last_taken_ maybe
  StreamId last_taken_;  // every entry up to here has been folded or rejected

  // The open loop tick (event-time bucket).
  std::optional<int64_t> bucket_;
  bool open_has_ticks_ = false;
  bool open_needs_write_ = false;   // holds entries not yet reflected in Redis
  std::vector<StreamId> open_ids_;  // to ack once the tick is written
  bool held_ = false;               // tick_ opens the next loop tick
  bool held_tracked_ = false;
  StreamId held_id_;
  int64_t held_bucket_ = 0;
  std::optional<int64_t> ceiling_;  // FoldUpTo's: the last bucket to fold
  schema::Tick tick_;
  std::string origin_text_;

  // Acknowledgement.
  std::vector<StreamId> ack_ids_;   // entries of written loop ticks
  std::vector<DeadLetter> dead_letters_;
  std::chrono::steady_clock::time_point next_error_log_{};
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_STREAM_FEED_H_
