#include "engine/redis/key_space.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/redis/key_scan.h"
#include "engine/redis/key_slot.h"

namespace physics::redis {

absl::Status KeySpace::Scan(std::string_view pattern,
                            absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page) {
  if (!is_cluster()) return ScanKeys(*conn_, pattern, on_page);
  for (size_t i = 0; i < cluster_->masters(); ++i) {
    if (absl::Status s = ScanMaster(i, pattern, on_page); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status KeySpace::ScanMaster(size_t i, std::string_view pattern,
                                  absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page) {
  absl::StatusOr<Connection*> master = cluster_->Master(i);
  if (!master.ok()) return master.status();
  return ScanKeys(**master, pattern, on_page);
}

absl::Status KeySpace::Values(std::span<const std::string> keys,
                              absl::FunctionRef<void(size_t, const redisReply*)> on_value) {
  if (keys.empty()) return absl::OkStatus();
  if (!is_cluster()) {
    absl::StatusOr<Reply> values = MGet(*conn_, keys);
    if (!values.ok()) return values.status();
    for (size_t i = 0; i < keys.size(); ++i) on_value(i, (*values)->element[i]);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Reply>> values = PerKey("GET", keys);
  if (!values.ok()) return values.status();
  for (size_t i = 0; i < keys.size(); ++i) {
    const redisReply* v = (*values)[i].get();
    // WRONGTYPE and the like read as "not a string", as MGET's nil does.
    static const redisReply kNil = [] {
      redisReply nil{};
      nil.type = REDIS_REPLY_NIL;
      return nil;
    }();
    on_value(i, v->type == REDIS_REPLY_ERROR ? &kNil : v);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Reply>> KeySpace::PerKey(std::string_view command,
                                                    std::span<const std::string> keys) {
  if (!is_cluster()) return redis::PerKey(*conn_, command, keys);
  // Group the keys by master, one pipeline per master, replies put back in
  // key order.
  std::vector<std::vector<size_t>> by_master(cluster_->masters());
  for (size_t i = 0; i < keys.size(); ++i) {
    const int owner = cluster_->MasterOf(KeySlot(keys[i]));
    if (owner == ClusterTopology::kNoOwner) {
      return absl::UnavailableError(
          absl::StrCat("Redis Cluster: no master serves slot ", KeySlot(keys[i]), " (key ", keys[i], ")"));
    }
    by_master[owner].push_back(i);
  }
  std::vector<Reply> replies(keys.size());
  std::vector<std::string> subset;
  for (size_t m = 0; m < by_master.size(); ++m) {
    if (by_master[m].empty()) continue;
    absl::StatusOr<Connection*> master = cluster_->Master(m);
    if (!master.ok()) return master.status();
    subset.clear();
    for (size_t i : by_master[m]) subset.push_back(keys[i]);
    absl::StatusOr<std::vector<Reply>> part = redis::PerKey(**master, command, subset);
    if (!part.ok()) return part.status();
    for (size_t j = 0; j < by_master[m].size(); ++j) replies[by_master[m][j]] = std::move((*part)[j]);
  }
  return replies;
}

absl::StatusOr<Reply> KeySpace::Command(std::string_view key, std::initializer_list<std::string_view> argv) {
  if (!is_cluster()) return conn_->Command(argv);
  return cluster_->Command(key, argv);
}

}  // namespace physics::redis
