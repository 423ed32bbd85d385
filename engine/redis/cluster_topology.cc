// ClusterTopology (cluster.h): the slot map read from a CLUSTER SHARDS reply.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/redis/cluster.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

using internal::ToAbsl;

// The value of `name` in a flat [name, value, ...] array, or nullptr.
const redisReply* Field(const redisReply* map, std::string_view name) {
  if (map == nullptr || map->type != REDIS_REPLY_ARRAY || map->elements % 2 != 0) return nullptr;
  for (size_t i = 0; i + 1 < map->elements; i += 2) {
    if (ReplyText(map->element[i]) == name) return map->element[i + 1];
  }
  return nullptr;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("CLUSTER SHARDS reply is malformed: ", what));
}

struct ShardNode {
  std::string id;
  HostPort address;
  bool master = false;
  bool online = false;
  int64_t offset = 0;
};

absl::StatusOr<ShardNode> ParseNode(const redisReply* node, size_t shard, std::string_view asked_host) {
  const std::string where = absl::StrCat("shard ", shard, ": a node");
  if (node == nullptr || node->type != REDIS_REPLY_ARRAY || node->elements % 2 != 0) {
    return Malformed(absl::StrCat(where, " is not a field/value array"));
  }
  const redisReply* id = Field(node, "id");
  const redisReply* port = Field(node, "port");
  const redisReply* role = Field(node, "role");
  if (!IsTextReply(id) || ReplyText(id).empty()) return Malformed(absl::StrCat(where, " has no id"));
  if (port == nullptr || port->type != REDIS_REPLY_INTEGER || port->integer < 1 ||
      port->integer > 65535) {
    return Malformed(absl::StrCat(where, " has no plain \"port\" (TLS is not supported)"));
  }
  if (ReplyText(role) != "master" && ReplyText(role) != "replica") {
    return Malformed(absl::StrCat(where, " has role \"", ToAbsl(ReplyText(role)), "\""));
  }
  ShardNode out;
  out.id = std::string(ReplyText(id));
  out.master = ReplyText(role) == "master";
  out.online = ReplyText(Field(node, "health")) == "online";
  if (const redisReply* offset = Field(node, "replication-offset");
      offset != nullptr && offset->type == REDIS_REPLY_INTEGER) {
    out.offset = offset->integer;
  }
  // The endpoint is the address clients should use; "?" or "" means unknown,
  // and then the ip, else the node that answered.
  std::string_view host = ReplyText(Field(node, "endpoint"));
  if (host.empty() || host == "?") host = ReplyText(Field(node, "ip"));
  if (host.empty() || host == "?") host = asked_host;
  out.address = HostPort{std::string(host), static_cast<int>(port->integer)};
  return out;
}

}  // namespace

// --- ClusterTopology --------------------------------------------------------

absl::StatusOr<ClusterTopology> ClusterTopology::FromShardsReply(const redisReply* reply) {
  return FromShardsReply(reply, "");
}

absl::StatusOr<ClusterTopology> ClusterTopology::FromShardsReply(const redisReply* reply,
                                                                 std::string_view asked_host) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return Malformed("not an array");
  ClusterTopology t;
  t.slot_owner.fill(kNoOwner);
  for (size_t k = 0; k < reply->elements; ++k) {
    const redisReply* shard = reply->element[k];
    if (shard->type != REDIS_REPLY_ARRAY || shard->elements % 2 != 0) {
      return Malformed(absl::StrCat("shard ", k, " is not a field/value array"));
    }
    const redisReply* slots = Field(shard, "slots");
    if (slots == nullptr || slots->type != REDIS_REPLY_ARRAY || slots->elements % 2 != 0) {
      return Malformed(absl::StrCat("shard ", k, ": \"slots\" is not a list of first, last pairs"));
    }
    ClusterShard out;
    for (size_t i = 0; i < slots->elements; i += 2) {
      const redisReply* first = slots->element[i];
      const redisReply* last = slots->element[i + 1];
      if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER ||
          first->integer < 0 || first->integer > last->integer || last->integer >= kClusterSlots) {
        return Malformed(absl::StrCat("shard ", k, ": a slot range is not 0 <= first <= last < ",
                                      kClusterSlots));
      }
      out.slot_ranges.emplace_back(static_cast<uint16_t>(first->integer),
                                   static_cast<uint16_t>(last->integer));
    }
    const redisReply* nodes = Field(shard, "nodes");
    if (nodes == nullptr || nodes->type != REDIS_REPLY_ARRAY) {
      return Malformed(absl::StrCat("shard ", k, ": \"nodes\" is not an array"));
    }
    bool has_master = false;
    for (size_t n = 0; n < nodes->elements; ++n) {
      absl::StatusOr<ShardNode> node = ParseNode(nodes->element[n], k, asked_host);
      if (!node.ok()) return node.status();
      if (node->master && !has_master) {
        has_master = true;
        out.master_id = std::move(node->id);
        out.master = std::move(node->address);
        out.master_replication_offset = node->offset;
      } else {
        out.replicas.push_back({std::move(node->id), std::move(node->address), node->online,
                                node->offset});
      }
    }
    if (!has_master || out.slot_ranges.empty()) continue;
    const auto index = static_cast<int16_t>(t.shards.size());
    for (const auto& [first, last] : out.slot_ranges) {
      for (int slot = first; slot <= last; ++slot) {
        if (t.slot_owner[slot] == kNoOwner) t.slot_owner[slot] = index;
      }
    }
    t.shards.push_back(std::move(out));
  }
  return t;
}

int ClusterTopology::covered_slots() const {
  return static_cast<int>(std::count_if(slot_owner.begin(), slot_owner.end(),
                                        [](int16_t owner) { return owner != kNoOwner; }));
}

int ClusterTopology::ShardOf(const HostPort& address) const {
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].master == address) return static_cast<int>(i);
  }
  return kNoOwner;
}

}  // namespace physics::redis
