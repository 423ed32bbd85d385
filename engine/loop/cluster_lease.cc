#include "engine/loop/cluster_lease.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "engine/redis/error_reply.h"
#include "engine/redis/key_slot.h"

namespace physics::loop {
namespace {

// KEYS[1] lease, KEYS[2] epoch counter (same slot); ARGV id, lease ms.
// Returns the new epoch, or 0 while another engine holds the lease.
constexpr std::string_view kAcquire = R"(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2]))";

// KEYS[1] lease; ARGV id, lease ms.
constexpr std::string_view kRenew = R"(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED lease') end
return redis.call('PEXPIRE', KEYS[1], ARGV[2]))";

// KEYS[1] a copy; ARGV epoch. Raises the copy, never lowers it.
constexpr std::string_view kRaise = R"(
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > tonumber(ARGV[1]) then return redis.error_reply('FENCED ' .. held) end
redis.call('SET', KEYS[1], ARGV[1])
return 1)";

// KEYS[1] the unit's key (routing); ARGV copy, epoch, then per command its
// argument count and arguments. The copy lives in another slot of the same
// master: hence the flag (Redis 7.0 refuses such an access without it).
constexpr std::string_view kWrite = R"(#!lua flags=allow-cross-slot-keys
local held = tonumber(redis.call('GET', ARGV[1]) or '0')
local ours = tonumber(ARGV[2])
if held > ours then return redis.error_reply('FENCED ' .. held) end
if held < ours then return redis.error_reply('NOCOPY ' .. ARGV[1]) end
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1)";

absl::Status AsLeaseStatus(const absl::Status& s) {
  if (s.ok()) return s;
  if (ClusterLease::Classify(redis::ErrorReplyText(s)) == ClusterLease::Refusal::kFenced) {
    const std::string_view text = redis::ErrorReplyText(s);
    return absl::AbortedError(absl::string_view(text.data(), text.size()));
  }
  return s;
}

}  // namespace

ClusterLease::ClusterLease(const redis::Config& config, const WriterOptions& options)
    : id_(options.heartbeat_id),
      key_(LeaderLeaseKey(config, options)),
      lease_ms_(absl::StrCat(absl::ToInt64Milliseconds(options.leader_lease))),
      connect_timeout_(options.connect_timeout),
      io_timeout_(options.io_timeout) {
  epoch_key_ = absl::StrCat(key_, ":epoch:{", redis::SlotTag(redis::KeySlot(key_)), "}");
}

absl::StatusOr<bool> ClusterLease::Acquire(redis::Cluster& cluster) {
  absl::StatusOr<redis::Reply> r =
      cluster.Command(key_, {"EVAL", kAcquire, "2", key_, epoch_key_, id_, lease_ms_});
  if (!r.ok()) return r.status();
  if ((*r)->type != REDIS_REPLY_INTEGER) return absl::InternalError("lease: unexpected reply");
  if ((*r)->integer == 0) return false;
  epoch_ = absl::StrCat((*r)->integer);
  return true;
}

absl::Status ClusterLease::Fence(redis::Cluster& cluster) {
  const auto& shards = cluster.topology().shards;
  open_groups_.clear();  // named after the old copies; the caller appends their symbols again
  copies_.clear();
  copy_slots_.clear();
  for (const redis::ClusterShard& shard : shards) {
    copy_slots_.push_back(shard.slot_ranges.front().first);
    copies_.push_back(absl::StrCat(key_, ":{", redis::SlotTag(copy_slots_.back()), "}"));
  }
  for (const std::string& copy : copies_) {
    absl::StatusOr<redis::Reply> r = cluster.Command(copy, {"EVAL", kRaise, "1", copy, epoch_});
    if (!r.ok()) {
      copies_.clear();  // Fence again before writing
      copy_slots_.clear();
      return AsLeaseStatus(r.status());
    }
  }
  absl::Status loaded = cluster.ForEachMaster([&](size_t, redis::Connection& conn) -> absl::Status {
    absl::StatusOr<redis::Reply> r = conn.Command({"SCRIPT", "LOAD", kWrite});
    if (!r.ok()) return r.status();
    write_sha_ = std::string(redis::ReplyText(r->get()));
    return absl::OkStatus();
  });
  if (!loaded.ok()) return loaded;
  // Redis 7 does not replicate SCRIPT LOAD: a replica promoted later would
  // answer NOSCRIPT for a loop tick (then Fence runs again). Best effort,
  // on every replica listed (the slot map's health flags may be stale).
  for (const redis::ClusterShard& shard : shards) {
    for (const redis::ClusterShard::Replica& replica : shard.replicas) {
      absl::StatusOr<redis::Connection> conn =
          redis::Connection::Open(cluster.NodeConfig(replica.address), connect_timeout_, io_timeout_);
      if (conn.ok()) conn->Command({"SCRIPT", "LOAD", kWrite}).IgnoreError();
    }
  }
  return absl::OkStatus();
}

absl::Status ClusterLease::Renew(redis::Cluster& cluster) {
  return AsLeaseStatus(cluster.Command(key_, {"EVAL", kRenew, "1", key_, id_, lease_ms_}).status());
}

void ClusterLease::AppendRenewal(redis::ClusterPipeline& pipeline, uint32_t tag) {
  const std::string_view argv[] = {"EVAL", kRenew, "1", key_, id_, lease_ms_};
  pipeline.Append(redis::KeySlot(key_), tag, argv);
}

void ClusterLease::Release(redis::Cluster& cluster) {
  constexpr std::string_view kRelease = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0)";
  cluster.Command(key_, {"EVAL", kRelease, "1", key_, id_}).IgnoreError();
}

bool ClusterLease::CopiesMoved(const redis::Cluster& cluster) const {
  // Each master serves exactly one copy's slot, or the copies must move.
  if (copy_slots_.size() != cluster.masters()) return true;
  for (size_t i = 0; i < copy_slots_.size(); ++i) {
    const int master = cluster.MasterOf(copy_slots_[i]);
    if (master == redis::ClusterTopology::kNoOwner) return true;
    for (size_t j = 0; j < i; ++j) {
      if (cluster.MasterOf(copy_slots_[j]) == master) return true;
    }
  }
  return false;
}

void ClusterLease::Begin(const redis::Cluster& cluster, uint16_t slot, std::string_view key) {
  // The copy whose slot the unit's master serves (found by slot, not by the
  // master's index, which a refreshed slot map may change). None (no master,
  // or a slot map newer than the copies): the lease key stands in, the unit
  // is refused as non-local and the next loop tick fences again.
  std::string_view copy = key_;
  const int master = cluster.MasterOf(slot);
  for (size_t i = 0; i < copy_slots_.size(); ++i) {
    if (master != redis::ClusterTopology::kNoOwner && cluster.MasterOf(copy_slots_[i]) == master) {
      copy = copies_[i];
      break;
    }
  }
  argv_.assign({"EVALSHA", write_sha_, "1", key, copy, epoch_});
  commands_ = 0;
}

void ClusterLease::Add(std::span<const std::string_view> command) {
  std::array<char, 8>& count = counts_[commands_++];
  const auto [end, ec] = std::to_chars(count.data(), count.data() + count.size(), command.size());
  argv_.push_back(std::string_view(count.data(), static_cast<size_t>(end - count.data())));
  argv_.insert(argv_.end(), command.begin(), command.end());
}

void ClusterLease::AppendTo(redis::ClusterPipeline& pipeline, uint16_t slot, uint32_t tag,
                            bool repeatable) {
  if (repeatable) {
    pipeline.Append(slot, tag, argv_);
  } else {
    pipeline.AppendOnce(slot, tag, argv_);
  }
}

bool ClusterLease::AddToGroup(const redis::Cluster& cluster, uint16_t slot, uint32_t member,
                              std::initializer_list<std::span<const std::string_view>> commands,
                              redis::ClusterPipeline& pipeline) {
  const int master = cluster.MasterOf(slot);
  if (master == redis::ClusterTopology::kNoOwner) return false;
  size_t copy = 0;
  while (copy < copy_slots_.size() && cluster.MasterOf(copy_slots_[copy]) != master) ++copy;
  if (copy == copy_slots_.size()) return false;
  if (open_groups_.size() < copies_.size()) open_groups_.resize(copies_.size());
  OpenGroup& g = open_groups_[copy];
  if (g.commands + commands.size() > kMaxCommands) CloseGroup(copy, pipeline);
  for (const std::span<const std::string_view> command : commands) {
    char count[8];
    const auto [end, ec] = std::to_chars(count, count + sizeof(count), command.size());
    g.bytes.append(count, end);
    g.ends.push_back(g.bytes.size());
    for (const std::string_view arg : command) {
      g.bytes.append(arg);
      g.ends.push_back(g.bytes.size());
    }
  }
  g.commands += commands.size();
  g.members.push_back(member);
  return true;
}

void ClusterLease::CloseGroup(size_t copy, redis::ClusterPipeline& pipeline) {
  OpenGroup& g = open_groups_[copy];
  if (g.commands == 0) return;
  argv_.assign({"EVALSHA", write_sha_, "1", copies_[copy], copies_[copy], epoch_});
  size_t begin = 0;
  for (const size_t end : g.ends) {
    argv_.push_back(std::string_view(g.bytes).substr(begin, end - begin));
    begin = end;
  }
  const auto tag = kGroupTag + static_cast<uint32_t>(groups_.size());
  groups_.emplace_back(static_cast<uint32_t>(group_members_.size()),
                       static_cast<uint32_t>(group_members_.size() + g.members.size()));
  group_members_.insert(group_members_.end(), g.members.begin(), g.members.end());
  pipeline.Append(copy_slots_[copy], tag, argv_);  // SET, HSET, EXPIRE: safe to resend
  g.bytes.clear();
  g.ends.clear();
  g.commands = 0;
  g.members.clear();
}

void ClusterLease::CloseGroups(redis::ClusterPipeline& pipeline) {
  for (size_t copy = 0; copy < open_groups_.size(); ++copy) CloseGroup(copy, pipeline);
}

std::span<const uint32_t> ClusterLease::GroupMembers(uint32_t tag) const {
  const auto [begin, end] = groups_[tag - kGroupTag];
  return std::span<const uint32_t>(group_members_).subspan(begin, end - begin);
}

void ClusterLease::ClearGroups() {
  groups_.clear();
  group_members_.clear();
  for (OpenGroup& g : open_groups_) {
    g.bytes.clear();
    g.ends.clear();
    g.commands = 0;
    g.members.clear();
  }
}

ClusterLease::Refusal ClusterLease::Classify(std::string_view error) {
  const auto starts = [&](std::string_view prefix) { return error.substr(0, prefix.size()) == prefix; };
  if (starts("FENCED")) return Refusal::kFenced;
  // NOCOPY: the copy is missing there (a failover lost it, the masters
  // changed); a non-local key: the unit was redirected to a master whose
  // copy has another name. Fencing again (under a renewed lease) fixes both.
  if (starts("NOCOPY") || error.find("non local key") != std::string_view::npos) {
    return Refusal::kReplace;
  }
  if (starts("NOSCRIPT")) return Refusal::kReload;
  return Refusal::kNone;
}

}  // namespace physics::loop
