// Writes the latest state of every updated symbol to Redis in one pipeline per
// loop tick (docs/SPEC.md §2) and checks every reply. Within a tick's pipeline:
//   1. each symbol's state (SET physics:state:{SYM}) precedes its message; the
//      states stream out while the rest of the tick is computed (Stream);
//   2. the PUBLISH state_update of up to kPublishesPerTransaction stored symbols
//      go out in one MULTI/EXEC, so a subscriber receives them in one piece and
//      a GET on receipt finds that state or a newer one;
//   3. each transaction's snapshots (HSET + EXPIRE market:snapshot:{SYM})
//      follow it;
//   4. the engine's heartbeat (ops:hb:engine:{id}, docs/SPEC.md §2) rides along when due.
// Why in this order: docs/engine.md, "Writing to Redis". While Redis is
// unreachable it keeps nothing but the book's latest state, retries with
// capped exponential backoff (never holding a loop tick on a connect attempt
// longer than its timeout), logs once per change of state, and writes the
// latest state as soon as Redis is back (docs/SPEC.md §7); with a redis-sentinel://
// URL it retries at once when the sentinels announce a new master (docs/SPEC.md §9).
// With a leader lease (WriterOptions::leader_lease, docs/SPEC.md §9) it writes
// only while it holds [ns:]ops:leader:engine[:I/N]: every write goes inside a
// MULTI/EXEC that ends with the renewal and is followed by WATCH on the key,
// so a takeover aborts the next transaction of a stalled old leader; a
// standby writes only its heartbeat and tries to take the lease every tick.
// Why and what it costs: docs/engine.md, "Standby and fencing".
// Not thread-safe: owned by the tick thread.
#ifndef PHYSICS_ENGINE_LOOP_STATE_WRITER_H_
#define PHYSICS_ENGINE_LOOP_STATE_WRITER_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/loop/leader_lease.h"
#include "engine/loop/symbol_book.h"
#include "engine/loop/symbol_commands.h"
#include "engine/loop/writer.h"
#include "engine/redis/backoff.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/key_space.h"
#include "engine/redis/pipeline.h"

namespace physics::loop {

struct WriterOptions {
  int64_t snapshot_ttl_seconds = 60;
  int64_t state_ttl_seconds = 0;  // 0: no TTL on physics:state:{SYM}
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration io_timeout = absl::Seconds(1);
  // Names the heartbeat key ops:hb:engine:{id}; "" writes no heartbeat.
  std::string heartbeat_id;
  // The heartbeat's value: "1", or "shard I/N" for an engine shard.
  std::string heartbeat_value = "1";
  // > 0: write only while holding the lease [ns:]ops:leader:engine[:I/N]
  // (value heartbeat_id, which must be set); 0: write unconditionally (one engine).
  absl::Duration leader_lease = absl::ZeroDuration();
  // "I/N" for engine shard I of N (each shard has its own lease); "" for one engine.
  std::string shard;
  // Without a lease: Flush leaves the replies of its pipeline to be read by
  // the next Flush (or Settle), so the next loop tick is computed while
  // Redis executes the end of this one. Only for a feed that acknowledges
  // nothing (sim, pubsub, csv): RunLoop calls Feed::OnWritten once the
  // symbols are marked written, which is before their replies are read.
  bool late_replies = false;
};

// The lease's key: [ns:]ops:leader:engine, plus ":I/N" for an engine shard.
std::string LeaderLeaseKey(const redis::Config& config, const WriterOptions& options);

// symbol -> seq of every stored state matching `pattern` ([ns:]physics:state:*),
// for a new leader to continue from (a state that does not parse counts as 0).
absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> StoredStateSeqs(redis::KeySpace& keys,
                                                                        const std::string& pattern);

struct WriterCounters {
  int64_t pipelines = 0;
  int64_t commands = 0;
  int64_t error_replies = 0;
  int64_t failed_writes = 0;  // pipelines lost to an unreachable Redis
};

class StateWriter final : public Writer {
 public:
  // A tick's PUBLISHes go out in transactions of at most this many, so one
  // EXEC holds Redis for ~0.2 ms at most (other clients wait that long), and
  // a large tick's messages still leave while the engine computes the rest.
  static constexpr size_t kPublishesPerTransaction = 128;

  StateWriter(redis::Config config, WriterOptions options);

  // Writes every unwritten symbol of `book` in one pipeline and marks them
  // written, with the heartbeat when it is due (a beat alone is written even
  // when no symbol is). Returns OK when written (or nothing to write); kUnavailable while
  // Redis is unreachable (the state stays in the book for the next call);
  // kUnauthenticated / kPermissionDenied when Redis refuses our credentials,
  // which retrying cannot fix.
  absl::Status Flush(SymbolBook& book) override;
  // Reads the replies a late_replies Flush left owed; symbols whose write
  // failed become unwritten again. OK at once when nothing is owed.
  absl::Status Settle(SymbolBook& book) override;

  // Starts sending the states (SET) of the symbols that became unwritten since the
  // last call, while the caller computes the rest of the tick (so Redis and the
  // engine work at the same time). A no-op while disconnected. Flush() must
  // follow before the book's unwritten list changes otherwise.
  void Stream(const SymbolBook& book) override;

  // Appends the commands that write every unwritten symbol of `book` (what
  // Flush sends), e.g. to measure the server's own limit with redis-cli --pipe.
  void AppendCommands(const SymbolBook& book, redis::Pipeline& pipeline) const;

  // Deletes the heartbeat key so an orderly stop shows at once rather than
  // when the key expires. Best effort: only when connected, errors ignored.
  void RemoveHeartbeat() override;

  // Lease mode, while standing by: tries to take the lease (SET NX PX, then
  // WATCH and GET = own id). On success, when `book` is given, first raises
  // its seqs to those stored in Redis (SCAN + MGET physics:state:*) so the
  // next state written continues them. Returns leading(). Errors count as
  // "not now": the next tick tries again.
  bool TryLead(SymbolBook* book) override;
  // Lease mode, while leading: whether input may be taken now. When the
  // clock rule (LeaderLease::MaySend) no longer vouches for the lease, e.g.
  // after a stall, renews it and reads the answer back (one round trip; none
  // otherwise); false once another engine took it, or while disconnected
  // and the clock no longer vouches (the next Flush re-claims).
  bool ConfirmLease() override;
  // Lease mode: deletes the lease if it is still ours (an orderly stop hands
  // over at once rather than after the lease). Best effort.
  void ReleaseLease() override;

  // True without a lease, or while holding it.
  bool leading() const override { return !lease_.has_value() || lease_->leading(); }
  bool lease_mode() const override { return lease_.has_value(); }
  bool connected() const override { return conn_.has_value(); }
  const WriterCounters& counters() const { return counters_; }

 private:
  enum class Claim { kTaken, kKept, kOther };

  absl::Status EnsureConnected();
  // Without a lease: executes pipeline_ (holding the beat when `beat`),
  // reading `replies` (Pipeline::Execute); on failure returns the symbols in
  // flight to the book. With `closes_tick` (Flush: pipeline_ holds every
  // unwritten symbol's commands) marks the book's symbols written.
  absl::Status ExecuteUnfenced(SymbolBook& book, bool beat, std::chrono::steady_clock::time_point now,
                               redis::Pipeline::Replies replies, bool closes_tick);
  // Lease mode: Flush while standing by (the heartbeat only) and while leading.
  absl::Status FlushStandby(SymbolBook& book, bool beat, std::chrono::steady_clock::time_point now);
  absl::Status FlushLeading(SymbolBook& book, bool beat, std::chrono::steady_clock::time_point now);
  // SET lease id NX PX, WATCH lease, GET lease: kTaken when the SET took it,
  // kKept when it already held our id, kOther when another engine holds it.
  absl::StatusOr<Claim> ClaimLease();
  // Lease mode: AppendNew as fenced transactions, each behind BeforeTransaction().
  absl::Status AppendFenced(const SymbolBook& book, bool tick_closed);
  // Reads the outstanding replies first when the last transaction is not fully
  // sent or LeaderLease::MaySend says the confirmed renewal is too old, then
  // renews alone (one round trip) if it still is. kAborted once the lease is lost.
  absl::Status BeforeTransaction();
  // Closes a transaction: SET lease id PX, EXEC, WATCH lease; sends what it can.
  void EndTransaction();
  // Executes the pipeline and checks every reply; a null EXEC loses the lease.
  absl::Status Drain();
  void LoseLease(std::string_view why);
  void NoteErrorReplies(const absl::Status& status);
  void NoteWritten(const SymbolBook& book);
  // SET physics:state:{SYM}.
  void AppendState(const SymbolState& s, redis::Pipeline& pipeline) const;
  // HSET + EXPIRE market:snapshot:{SYM}.
  void AppendSnapshot(const SymbolState& s, redis::Pipeline& pipeline) const;
  // MULTI, the PUBLISH of unwritten[begin, end), EXEC, then their snapshots.
  void AppendPublishesAndSnapshots(std::span<SymbolState* const> unwritten, size_t begin,
                                   size_t end, redis::Pipeline& pipeline) const;
  // Appends to pipeline_ the states of unwritten symbols not yet appended,
  // then a transaction (and the snapshots) per kPublishesPerTransaction stored
  // symbols not yet published, and with tick_closed the rest of them too.
  void AppendNew(const SymbolBook& book, bool tick_closed);
  void ConnectionLost(const absl::Status& why);

  redis::Config config_;
  WriterOptions options_;
  std::string channel_;          // [ns:]state_update
  SymbolCommands commands_;
  std::optional<redis::Connection> conn_;
  redis::Pipeline pipeline_;
  size_t appended_ = 0;   // book.unwritten() entries whose state SET is in pipeline_
  size_t published_ = 0;  // ... and whose PUBLISH and snapshot are
  // late_replies: the symbols (and the beat) of the pipeline whose replies
  // are owed; marked written in the book, unwritten again if they fail.
  std::vector<SymbolState*> in_flight_;
  bool beat_in_flight_ = false;
  std::chrono::steady_clock::time_point beat_sent_{};
  std::optional<redis::Heartbeat> heartbeat_;
  std::optional<LeaderLease> lease_;
  std::string lease_key_;      // [ns:]ops:leader:engine[:I/N]
  std::string lease_ms_text_;  // "PX" argument
  std::string state_pattern_;  // [ns:]physics:state:*
  std::chrono::steady_clock::time_point took_lease_at_{};
  bool first_write_pending_ = false;  // log how long a takeover took to write
  redis::Backoff backoff_;
  std::chrono::steady_clock::time_point next_attempt_{};
  uint64_t switches_at_loss_ = 0;  // SentinelList::switches() when the connection was lost
  std::chrono::steady_clock::time_point next_error_log_{};
  bool reported_down_ = false;  // an outage has been logged and not yet recovered
  WriterCounters counters_;
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_STATE_WRITER_H_
