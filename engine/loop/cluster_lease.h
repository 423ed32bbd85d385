// The leader lease and its fencing on a Redis Cluster (docs/SPEC.md §9,
// docs/engine.md "Standby and fencing"), the Redis side of ClusterWriter's
// lease mode. WATCH guards one node, so:
//   - the lease [ns:]ops:leader:engine[:I/N] (value: our id, PX lease) says
//     who leads; taking it also takes a new fencing epoch, atomically
//     (INCR of [ns:]ops:leader:engine[:I/N]:epoch:{T}, T = SlotTag of the
//     lease's own slot);
//   - every master holds a copy of the newest epoch,
//     [ns:]ops:leader:engine[:I/N]:{T} with T = SlotTag of a slot it serves;
//     a new leader raises every copy to its epoch before its first write
//     (only raises: a stalled old leader can never lower one back);
//   - every write runs inside a script (EVALSHA, flags=allow-cross-slot-keys)
//     that executes its commands only when the copy on its own master
//     equals our epoch, and refuses with FENCED (a newer epoch) or NOCOPY:
//     a unit alone (Begin/Add/AppendTo, e.g. a partition's SPUBLISHes), or
//     grouped per master (AddToGroup: the states, the snapshots).
// Not thread-safe: owned by the tick thread (ClusterWriter).
#ifndef PHYSICS_ENGINE_LOOP_CLUSTER_LEASE_H_
#define PHYSICS_ENGINE_LOOP_CLUSTER_LEASE_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/loop/state_writer.h"  // WriterOptions, LeaderLeaseKey
#include "engine/redis/cluster.h"
#include "engine/redis/config.h"

namespace physics::loop {

class ClusterLease {
 public:
  // What a failed unit's error reply says about the lease.
  enum class Refusal { kNone, kFenced, kReplace, kReload };

  // REQUIRES: options.leader_lease > 0 and options.heartbeat_id set.
  ClusterLease(const redis::Config& config, const WriterOptions& options);

  const std::string& key() const { return key_; }
  const std::string& epoch() const { return epoch_; }  // "" before Acquire

  // Takes the lease (free, or already ours) with a new epoch, in one script
  // on its master. False when another engine holds it.
  absl::StatusOr<bool> Acquire(redis::Cluster& cluster);
  // Raises the copy on every master to our epoch (names them after the
  // current slot map first; drops the open groups) and loads the write script there (and, best
  // effort, on their replicas, for after a failover). kAborted
  // when a master holds a newer epoch (another engine leads).
  absl::Status Fence(redis::Cluster& cluster);
  // Renews the lease, one round trip. kAborted when it is not ours any more.
  absl::Status Renew(redis::Cluster& cluster);
  // The renewal as a unit of `pipeline` (its refusal reads kFenced).
  void AppendRenewal(redis::ClusterPipeline& pipeline, uint32_t tag);
  // Deletes the lease if it is still ours. Best effort.
  void Release(redis::Cluster& cluster);

  // True unless every master serves exactly one copy's slot (the masters
  // or the slot map changed since Fence()): the next write must Fence() again.
  bool CopiesMoved(const redis::Cluster& cluster) const;

  // A fenced unit: Begin, the unit's commands (at most kMaxCommands), then
  // Append it. `key` is a key (or channel) of the unit, hashing to its slot.
  static constexpr size_t kMaxCommands = 128;
  void Begin(const redis::Cluster& cluster, uint16_t slot, std::string_view key);
  void Add(std::span<const std::string_view> command);
  void Add(std::initializer_list<std::string_view> command) {
    Add(std::span<const std::string_view>(command.begin(), command.size()));
  }
  // As one unit (resent after a lost reply only when `repeatable`).
  void AppendTo(redis::ClusterPipeline& pipeline, uint16_t slot, uint32_t tag, bool repeatable);

  // Groups: the fenced commands of many symbols on one master go out as one
  // script (declaring the master's copy; the symbols' keys live in other
  // slots of the same master), up to kMaxCommands commands each: a script
  // call costs Redis ~3 µs however little it does, so one per unit would
  // triple the servers' CPU per update. A group whose master lost one of its
  // slots meanwhile stops at that key (its earlier commands landed; all are
  // idempotent) and is refused as a whole.
  //
  // Adds `commands` for symbol `member` to the open group of the master
  // serving `slot`; a full group is appended to `pipeline` (tag kGroupTag +
  // its index). False when no copy serves that master (send the unit alone).
  static constexpr uint32_t kGroupTag = 1u << 30;
  bool AddToGroup(const redis::Cluster& cluster, uint16_t slot, uint32_t member,
                  std::initializer_list<std::span<const std::string_view>> commands,
                  redis::ClusterPipeline& pipeline);
  // Appends every open group to `pipeline`.
  void CloseGroups(redis::ClusterPipeline& pipeline);
  // The members of the group tagged `tag` (>= kGroupTag), until ClearGroups().
  std::span<const uint32_t> GroupMembers(uint32_t tag) const;
  // Forgets the closed groups (after the loop tick's pipelines ran) and the open ones.
  void ClearGroups();

  // What `error` (a failed unit's first error reply) means for the lease.
  static Refusal Classify(std::string_view error);

 private:
  std::string id_;
  std::string key_;        // [ns:]ops:leader:engine[:I/N]
  std::string epoch_key_;  // key_:epoch:{T}, in key_'s slot
  std::string lease_ms_;
  absl::Duration connect_timeout_, io_timeout_;  // for the replicas' script loads
  std::string epoch_;      // ours, decimal; "" before Acquire
  std::string write_sha_;  // SHA1 of the write script
  // Per master as of the last Fence(): the copy's key, and the slot (the
  // master's first) whose tag names it.
  std::vector<std::string> copies_;
  std::vector<uint16_t> copy_slots_;
  // An open group per copy (index into copies_): its arguments' bytes, where
  // each ends, its commands and its members. Reused: no allocation once grown.
  struct OpenGroup {
    std::string bytes;
    std::vector<size_t> ends;
    size_t commands = 0;
    std::vector<uint32_t> members;
  };
  void CloseGroup(size_t copy, redis::ClusterPipeline& pipeline);

  std::vector<OpenGroup> open_groups_;
  std::vector<uint32_t> group_members_;              // closed groups' members, in order
  std::vector<std::pair<uint32_t, uint32_t>> groups_;  // per closed group: its range in group_members_
  std::vector<std::string_view> argv_;
  std::array<std::array<char, 8>, kMaxCommands> counts_{};
  size_t commands_ = 0;
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_CLUSTER_LEASE_H_
