// The stream feed over partitioned streams (docs/SPEC.md §9): with a
// redis-cluster:// URL or with --shard, ticks come from one stream per
// partition, KEY:{tag} (redis::Partitioning::Stream), and an engine reads the
// partitions it owns, each through its own StreamFeed: consumer group
// physics-engine, dead-letter stream KEY:dlq:{tag} (same slot, so a
// partition's stream, group and DLQ live on one master), warm start, pending
// take-over, ack after write and failover re-read, per partition.
//  - Event time across partitions: a loop tick (bucket) opens at the lowest
//    bucket any partition holds next, and closes once every partition has
//    moved past it (its next entry belongs to a later bucket) or, for those
//    drained, once the wall clock has passed the bucket's end by the grace;
//    a partition whose Redis is unreachable holds the loop tick open. Over
//    the same ticks the state equals that of one stream.
//  - On a cluster each partition connects to the master serving its slot
//    (Cluster::OpenMasterConnection, ROLE-checked), found again through a
//    refreshed slot map after a lost connection or a redirection.
//  - Standby (options.follow): every partition follows what its group
//    acknowledged; a loop tick closes on the data only, once every
//    partition is past it or drained by a read made after the evidence that
//    the leader moved on (FollowState). Lead() leads every partition.
// docs/engine.md, "### Partitioned streams", has the names and the limits.
// Not thread-safe: polled by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_PARTITIONED_STREAM_FEED_H_
#define PHYSICS_ENGINE_FEED_PARTITIONED_STREAM_FEED_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/feed/feed.h"
#include "engine/feed/stream_feed.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/partition.h"

namespace physics::feed {

class PartitionedStreamFeed final : public Feed {
 public:
  // Reads the streams of `owned` partitions of `parts`, named after
  // options.key; with options.follow every partition stands by until Lead().
  // REQUIRES: `owned` non-empty.
  PartitionedStreamFeed(const redis::Config& config, StreamFeedOptions options,
                        const redis::Partitioning& parts, const std::vector<int>& owned);
  PartitionedStreamFeed(const PartitionedStreamFeed&) = delete;
  PartitionedStreamFeed& operator=(const PartitionedStreamFeed&) = delete;

  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;
  bool event_time() const override { return true; }
  // Every partition dead-letters and acknowledges what it holds.
  void OnWritten() override;
  // Every partition becomes its group's consumer (pending take-over and
  // catch-up per partition); each asks `still_leading` before it reads the
  // group, and a lost lease holds the loop tick open (kWaiting).
  void Lead(std::function<bool()> still_leading) override;
  // True when every partition's stream was followed from its first entry.
  bool derives_seq() const override;

 private:
  // A connection to the master now serving `slot` (on a cluster).
  absl::StatusOr<redis::Connection> OpenMaster(uint16_t slot);
  PollResult Close();

  struct Partition {
    std::unique_ptr<StreamFeed> feed;
    // When a read last found it drained (steady clock, and epoch micros),
    // while nothing has been read from it since.
    std::optional<SteadyTime> drained_at = std::nullopt;
    long double drained_at_us = 0;
    // Following: when it was first seen past (holding an entry of
    // past_bucket, acknowledged, so the leader has written every loop tick
    // before that bucket).
    std::optional<SteadyTime> past_at = std::nullopt;
    int64_t past_bucket = 0;
  };
  // Following: whether the partitions tell where the leader's loop ticks
  // end (kSettled): every partition is past, or drained by a read made after
  // the latest evidence that the leader wrote the loop ticks before the next
  // one, that found nothing pending in its group or came kFollowSettle after
  // the evidence (the leader acknowledges partition by partition). Else
  // whether the next round may read at once (kReadAgain: some were read
  // before the evidence) or waits kFollowSettle first.
  enum class Follow { kSettled, kReadAgain, kWait };
  Follow FollowState() const;
  // Whether a round that does not block may skip reading `part` (drained):
  // read less than kDrainedFresh ago, and after the open bucket's grace
  // ended, so a close relies on what one stream's read would have seen then.
  bool SkipDrained(const Partition& part, SteadyTime now) const;
  // The steady-clock time at which `bucket`'s grace ends (now when it has).
  SteadyTime GraceEndSteady(int64_t bucket, SteadyTime now) const;

  redis::Config config_;
  StreamFeedOptions options_;
  std::optional<redis::Cluster> cluster_;  // redis-cluster:// only, opened on first use
  std::vector<Partition> partitions_;
  std::optional<int64_t> open_;  // the open loop tick's bucket
  bool following_;               // options.follow, until Lead()
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_PARTITIONED_STREAM_FEED_H_
