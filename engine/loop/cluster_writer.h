// Writes the latest state of every updated symbol to a Redis Cluster
// (redis-cluster://, docs/SPEC.md §9), each command on the master serving
// its key's slot, every master at once (redis::ClusterPipeline). Per loop tick,
// in two phases:
//   1. the states (SET physics:state:{SYM}), streamed while the tick is
//      computed (Stream), then every reply read: a state is stored;
//   2. for the symbols whose state was stored: one MULTI/SPUBLISH.../EXEC per
//      partition (partition.h; at most kPublishesPerTransaction messages
//      each) on its channel [ns:]state_update:{tag}, the snapshots (HSET +
//      EXPIRE market:snapshot:{SYM}) and the heartbeat when due.
// A message is sent only once its state is stored, although the key and the
// channel may live on different masters; why two phases and what they cost:
// docs/engine.md, "Writing to Redis Cluster". A unit that did not land (its
// master down, the cluster failing over) leaves its symbols unwritten for the
// next loop tick (the book keeps only their latest state), so a dead master
// stalls its own symbols while the others' keep flowing every loop tick.
// With a leader lease (WriterOptions::leader_lease) it writes only while it
// holds [ns:]ops:leader:engine[:I/N], and every unit is fenced on its own
// master (cluster_lease.h): a stalled old leader's units are refused once a
// new leader took over. Why and what it costs: docs/engine.md, "Standby and
// fencing".
// Not thread-safe: owned by the tick thread.
#ifndef PHYSICS_ENGINE_LOOP_CLUSTER_WRITER_H_
#define PHYSICS_ENGINE_LOOP_CLUSTER_WRITER_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/loop/cluster_lease.h"
#include "engine/loop/leader_lease.h"
#include "engine/loop/state_writer.h"  // WriterOptions, WriterCounters
#include "engine/loop/symbol_book.h"
#include "engine/loop/symbol_commands.h"
#include "engine/loop/writer.h"
#include "engine/redis/backoff.h"
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/partition.h"

namespace physics::loop {

class ClusterWriter final : public Writer {
 public:
  static constexpr size_t kPublishesPerTransaction = StateWriter::kPublishesPerTransaction;

  // REQUIRES: config.uses_cluster(); with options.leader_lease > 0,
  // options.heartbeat_id set.
  ClusterWriter(redis::Config config, WriterOptions options, int partitions);

  absl::Status Flush(SymbolBook& book) override;
  void Stream(const SymbolBook& book) override;
  void RemoveHeartbeat() override;
  bool connected() const override { return cluster_.has_value(); }

  // Lease mode, as StateWriter's: TryLead takes the lease with a new epoch,
  // raises every master's copy to it and raises the book's seqs to the
  // stored ones (SCAN + GET physics:state:* on every master); ConfirmLease
  // renews (one round trip) when the clock rule no longer vouches for the
  // lease; ReleaseLease deletes it if it is still ours.
  bool TryLead(SymbolBook* book) override;
  bool ConfirmLease() override;
  void ReleaseLease() override;
  bool leading() const override { return !lease_.has_value() || lease_->leading(); }
  bool lease_mode() const override { return lease_.has_value(); }

  // Appends the second phase for the unwritten symbols of `book` whose
  // failed[i] is 0 (i: their index in book.unwritten()) to `messages`,
  // without the heartbeat: what Flush sends after the states, for benchmarks.
  void AppendMessages(const SymbolBook& book, std::span<const uint8_t> failed,
                      redis::ClusterPipeline& messages);

  const WriterCounters& counters() const { return counters_; }
  const redis::Partitioning& partitioning() const { return partitions_; }

 private:
  // Unit tags: a symbol's index in book.unwritten() (its SET, HSET, EXPIRE),
  // kBatchTag + the index of a MULTI/SPUBLISH/EXEC in batches_, kHeartbeatTag.
  static constexpr uint32_t kBatchTag = 1u << 31;
  static constexpr uint32_t kHeartbeatTag = UINT32_MAX;
  static constexpr uint32_t kRenewalTag = UINT32_MAX - 1;

  struct Batch {
    uint32_t begin, end;  // range of by_partition_
  };

  absl::Status EnsureOpen();
  // Fills by_partition_ with the indices of the unwritten symbols whose
  // failed[i] is 0, partition by partition: p's are
  // by_partition_[partition_start_[p], partition_start_[p + 1]).
  void SortByPartition(const SymbolBook& book, std::span<const uint8_t> failed);
  // SET physics:state:{SYM} (fenced in lease mode).
  void AppendState(const SymbolState& s, uint32_t tag, redis::ClusterPipeline& pipeline);
  // HSET + EXPIRE market:snapshot:{SYM} (one fenced unit in lease mode).
  void AppendSnapshot(const SymbolState& s, uint32_t tag, redis::ClusterPipeline& pipeline);
  // Executes `pipeline`, counting; marks failed_[i] for the symbols of the
  // units that did not land. Returns whether the heartbeat's unit landed.
  absl::Status Execute(redis::ClusterPipeline& pipeline, bool& heartbeat_failed);
  // One line when symbols start to be left unwritten, one when all land again.
  void NoteOutcome(const absl::Status& status, size_t written, size_t total);
  // Lease mode: Flush while standing by (the heartbeat only).
  absl::Status FlushStandby(SymbolBook& book, bool beat, std::chrono::steady_clock::time_point now);
  // Lease mode, before a leader's write: renews first when the clock rule
  // no longer vouches for the lease, fences again when asked to or when the
  // masters changed. kAborted once the lease is lost.
  absl::Status PrepareFencedWrite(std::chrono::steady_clock::time_point now);
  // Lease mode: reads what the last Execute's refusals say (kAborted: a newer
  // leader fenced us out) and whether the renewal landed.
  absl::Status NoteRefusals(const redis::ClusterPipeline& pipeline);
  void LoseLease(absl::string_view why);

  redis::Config config_;
  WriterOptions options_;
  SymbolCommands commands_;
  redis::Partitioning partitions_;
  std::vector<std::string> channels_;  // per partition: [ns:]state_update:{tag}
  std::optional<redis::Cluster> cluster_;
  redis::ClusterPipeline states_, messages_;
  size_t appended_ = 0;  // book.unwritten() entries whose SET is in states_
  // Reused every loop tick (no allocation once grown):
  std::vector<uint8_t> failed_;             // per unwritten() index
  std::vector<uint32_t> kept_;              // indices of failed_ symbols
  std::vector<uint32_t> partition_start_;   // counting sort by partition
  std::vector<uint32_t> by_partition_;      // stored symbols' indices, by partition
  std::vector<Batch> batches_;
  std::optional<redis::Heartbeat> heartbeat_;
  std::optional<LeaderLease> lease_;
  std::optional<ClusterLease> fence_;
  bool refence_ = false;           // a unit asked for the copies to be fenced again
  bool renewal_in_flight_ = false; // messages_ holds a renewal unit
  std::chrono::steady_clock::time_point took_lease_at_{};
  bool first_write_pending_ = false;  // log how long a takeover took to write
  redis::Backoff backoff_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point next_error_log_{};
  bool reported_down_ = false;  // an outage has been logged and not yet recovered
  WriterCounters counters_;
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_CLUSTER_WRITER_H_
