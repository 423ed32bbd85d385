// The Redis side of the stream feed: one connection to a consumer group of
// one stream (docs/SPEC.md §2: market:ticks, group physics-engine), with the few
// commands the feed needs: create the group, read its history and its new
// entries, take over entries left pending by dead consumers, acknowledge
// entries and dead-letter rejected ones, and follow the group without
// consuming (what it has acknowledged). No policy here: the feed decides
// what to read and when to acknowledge.
// Not thread-safe: owned by the tick thread.
#ifndef PHYSICS_ENGINE_FEED_STREAM_GROUP_H_
#define PHYSICS_ENGINE_FEED_STREAM_GROUP_H_

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/feed/stream_entry.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/pipeline.h"

namespace physics::feed {

struct StreamGroupOptions {
  std::string key;       // namespaced stream key, e.g. "market:ticks"
  std::string dlq_key;   // namespaced, e.g. "market:ticks:dlq"
  std::string group;     // "physics-engine"
  std::string consumer;  // "{hostname}-{pid}"
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration io_timeout = absl::Seconds(2);  // must exceed every BLOCK
  // Opens the connection instead of redis::Connection::Open(config): on a
  // Redis Cluster, one to the master serving the stream's slot
  // (PartitionedStreamFeed). Empty: the config's server.
  std::function<absl::StatusOr<redis::Connection>()> open = nullptr;
};

class StreamGroup {
 public:
  StreamGroup(redis::Config config, StreamGroupOptions options);

  // Connects and creates the group when missing (XGROUP CREATE key group 0
  // MKSTREAM: a new group starts at the beginning of the stream).
  // kUnavailable: retry later; other codes: the key is not a stream, or
  // Redis refused us.
  absl::Status Connect();
  bool connected() const { return conn_.has_value() && conn_->ok(); }
  void Disconnect() { conn_.reset(); }

  // The group's last-delivered-id (XINFO GROUPS): every entry up to it has
  // been handed to some consumer of the group.
  absl::StatusOr<StreamId> LastDeliveredId();
  // The newest id up to which every entry has been acknowledged by the group:
  // last-delivered-id, or just before the oldest pending entry (XINFO GROUPS,
  // XPENDING). Creates no consumer: a standby follows with this and Range.
  // `*nothing_pending` (when given): whether no entry was pending.
  absl::StatusOr<StreamId> AcknowledgedUntil(bool* nothing_pending = nullptr);
  // Whether every entry ever added is still in the stream (XINFO STREAM:
  // entries-added == length); false once anything was trimmed or deleted.
  absl::StatusOr<bool> HistoryComplete();
  // Takes over every entry pending in the group, whoever it was delivered to
  // (XAUTOCLAIM ... 0 JUSTID until the cursor is back at 0-0), and adds the
  // ids to `pending`. Entries deleted from the stream are dropped by Redis.
  absl::Status ClaimAllPending(absl::flat_hash_set<StreamId>& pending);
  // Removes the group's other consumers that hold no pending entries (each
  // restart is a new consumer), so XINFO CONSUMERS stays short.
  absl::Status DropIdleConsumers();
  // Takes over (XCLAIM) up to `count` entries pending longer than `min_idle`
  // under OTHER consumers (XPENDING ... IDLE lists them with their owner, so
  // our own entries of a long open loop tick are left alone). Returns the
  // claimed entries as an array of [id, [field, value...]], or a null Reply
  // when none was pending that long.
  absl::StatusOr<redis::Reply> ClaimIdleOfOthers(absl::Duration min_idle, size_t count);

  // XRANGE key (after until COUNT count: an array of [id, [field, value...]].
  absl::StatusOr<redis::Reply> Range(StreamId after, StreamId until, size_t count);
  // XREADGROUP ... COUNT count [BLOCK ms] STREAMS key > (no BLOCK when
  // `block` is not positive), or, with `own_after`, this consumer's own
  // pending entries after that id (history, no BLOCK).
  // Returns the entries array (possibly empty), or nullptr when BLOCK ran out.
  absl::StatusOr<redis::Reply> Read(size_t count, absl::Duration block,
                                    std::optional<StreamId> own_after);
  // Extracts the entries array of a Read() reply; nullptr when there is none.
  static const redisReply* Entries(const redis::Reply& reply);

  // XACK key group id... in chunks of kAckChunk ids, pipelined.
  absl::Status Ack(std::span<const StreamId> ids);
  static constexpr size_t kAckChunk = 4096;

  // XADD dlq_key <id> field value ... reason <reason>: the DLQ entry keeps the
  // source entry's id, so writing it twice (a retry after a lost reply, a
  // re-claimed entry after a crash) is detected by Redis and is not an error.
  // `fields` alternates names and values.
  absl::Status DeadLetter(StreamId id, std::span<const std::string> fields,
                          std::string_view reason);

  const StreamGroupOptions& options() const { return options_; }
  std::string Describe() const { return config_.Describe(); }

 private:
  // Runs a command; an I/O failure drops the connection, and so does a
  // cluster redirection (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), returned as
  // kUnavailable: the slot moved or its master is failing over, and the
  // reconnect (options().open) finds the master that serves it now.
  absl::StatusOr<redis::Reply> Run(std::span<const std::string_view> argv);
  absl::StatusOr<redis::Reply> Run(std::initializer_list<std::string_view> argv);

  redis::Config config_;
  StreamGroupOptions options_;
  std::optional<redis::Connection> conn_;
  redis::Pipeline pipeline_;
  std::string id_text_;                 // ids of one command, reused
  std::vector<size_t> id_ends_;         // where each id in id_text_ ends
  std::vector<std::string_view> argv_;  // reused
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_STREAM_GROUP_H_
