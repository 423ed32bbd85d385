#include "tools/status/cluster_checks.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/redis/partition.h"
#include "engine/schema/json_writer.h"
#include "tools/status/redis_checks.h"

namespace physics::ops {
namespace {

int64_t IntField(const InfoFields& f, const std::string& key) {
  auto it = f.find(key);
  int64_t v = -1;
  return it != f.end() && absl::SimpleAtoi(it->second, &v) ? v : -1;
}

// CLUSTER INFO's "field:value" lines.
absl::StatusOr<InfoFields> ClusterInfo(redis::Connection& conn) {
  absl::StatusOr<redis::Reply> r = conn.Command({"CLUSTER", "INFO"});
  if (!r.ok()) return r.status();
  InfoFields out;
  std::string_view text = redis::ReplyText(r->get());
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) out[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  return out;
}

struct MasterView {
  std::string address;
  int64_t slots = 0;
  int64_t keys = -1;
  int64_t replicas_online = 0;
  int64_t max_lag_bytes = 0;
  int64_t partitions = 0;
  int64_t subscribers = 0;
  std::string state;
  bool reachable = false;
};

}  // namespace

CheckResult CheckCluster(redis::Cluster& cluster, const redis::Config& cfg, int partitions) {
  CheckResult c{.name = "cluster"};
  const redis::ClusterTopology& topo = cluster.topology();
  std::vector<MasterView> views(topo.shards.size());
  int64_t publish_sent = 0;
  std::string state = "ok";
  for (size_t i = 0; i < topo.shards.size(); ++i) {
    const redis::ClusterShard& shard = topo.shards[i];
    MasterView& v = views[i];
    v.address = shard.master.ToString();
    for (const auto& [first, last] : shard.slot_ranges) v.slots += last - first + 1;
    for (const redis::ClusterShard::Replica& r : shard.replicas) {
      if (!r.online) continue;
      ++v.replicas_online;
      v.max_lag_bytes = std::max(v.max_lag_bytes, shard.master_replication_offset - r.replication_offset);
    }
    absl::StatusOr<redis::Connection*> conn = cluster.Master(i);
    if (!conn.ok()) {  // down and not failed over (yet): its slots take no writes
      c.Raise(Level::kFail, absl::StrCat("master ", v.address, " unreachable (", v.slots,
                                         " slots): ", conn.status().message()));
      continue;
    }
    v.reachable = true;
    absl::StatusOr<InfoFields> info = ClusterInfo(**conn);
    if (!info.ok()) {
      c.Raise(Level::kWarn, absl::StrCat("master ", v.address, ": CLUSTER INFO: ", info.status().message()));
      continue;
    }
    v.state = (*info)["cluster_state"];
    if (v.state != "ok") {
      state = v.state;
      c.Raise(Level::kFail, absl::StrCat("master ", v.address, " says cluster_state:", v.state));
    }
    publish_sent += std::max<int64_t>(0, IntField(*info, "cluster_stats_messages_publish_sent"));
    if (absl::StatusOr<redis::Reply> n = (*conn)->Command({"DBSIZE"}); n.ok() && (*n)->type == REDIS_REPLY_INTEGER) {
      v.keys = (*n)->integer;
    }
    if (v.replicas_online == 0) {
      c.Raise(Level::kWarn, absl::StrCat("master ", v.address, " has no online replica: its failure takes its ",
                                         v.slots, " slots down"));
    }
  }
  const int covered = topo.covered_slots();
  if (covered < redis::kClusterSlots) {
    c.Raise(Level::kFail, absl::StrCat(redis::kClusterSlots - covered, " slots have no master"));
  }

  // Sharded subscribers per partition channel, asked on the channel's master.
  const redis::Partitioning parts(partitions);
  int64_t unsubscribed = 0;
  std::string unsubscribed_example;
  for (int p = 0; p < parts.count(); ++p) {
    const std::string channel = parts.Channel(cfg, p);
    const int owner = cluster.MasterOf(parts.Slot(p));
    if (owner == redis::ClusterTopology::kNoOwner) continue;
    ++views[owner].partitions;
    if (!views[owner].reachable) continue;  // said above; asking would wait on it again
    absl::StatusOr<redis::Reply> r = cluster.Command(channel, {"PUBSUB", "SHARDNUMSUB", channel});
    if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2 ||
        (*r)->element[1]->type != REDIS_REPLY_INTEGER) {
      continue;
    }
    const int64_t n = (*r)->element[1]->integer;
    views[owner].subscribers += n;
    if (n == 0) {
      ++unsubscribed;
      unsubscribed_example = channel;
    }
  }
  if (unsubscribed > 0) {
    c.Raise(Level::kWarn, absl::StrCat(unsubscribed, " of ", parts.count(),
                                       " partition channels have no subscriber (bridge down?), e.g. ",
                                       unsubscribed_example));
  }

  std::string masters_json = "[";
  std::string summary;
  for (size_t i = 0; i < views.size(); ++i) {
    const MasterView& v = views[i];
    absl::StrAppend(&masters_json, i ? "," : "", "{\"address\":");
    schema::AppendJsonString(masters_json, v.address);
    absl::StrAppend(&masters_json, ",\"slots\":", v.slots, ",\"keys\":", v.keys, ",\"replicas_online\":",
                    v.replicas_online, ",\"max_replica_lag_bytes\":", v.max_lag_bytes, ",\"partitions\":",
                    v.partitions, ",\"sharded_subscribers\":", v.subscribers, "}");
    absl::StrAppend(&summary, i ? "; " : "", v.address, " ", v.slots, " slots ", v.keys, " keys ",
                    v.replicas_online, v.replicas_online == 1 ? " replica" : " replicas", " (lag ",
                    v.max_lag_bytes, " B) ", v.partitions, " partitions ", v.subscribers, " subscribers");
  }
  masters_json += "]";
  c.AddText("cluster_state", state);
  c.Add("covered_slots", int64_t{covered});
  c.Add("publish_sent", publish_sent);
  c.AddEncoded("masters", masters_json);
  const std::string head = absl::StrCat("cluster_state ", state, ", ", views.size(), " masters (", covered, "/",
                                        redis::kClusterSlots, " slots): ", summary,
                                        "; PUBLISH copied over the bus ", publish_sent, " times");
  c.message = c.message.empty() ? head : absl::StrCat(head, "; ", c.message);
  return c;
}

CheckResult OnEveryMaster(redis::Cluster& cluster, const std::string& name,
                          const std::function<CheckResult(redis::Connection&)>& check) {
  CheckResult merged{.name = name};
  for (size_t i = 0; i < cluster.masters(); ++i) {
    const std::string address = cluster.topology().shards[i].master.ToString();
    absl::StatusOr<redis::Connection*> conn = cluster.Master(i);
    if (!conn.ok()) {
      merged.Raise(Level::kFail, absl::StrCat(address, ": ", conn.status().message()));
      continue;
    }
    CheckResult one = check(**conn);
    merged.level = std::max(merged.level, one.level);
    absl::StrAppend(&merged.message, merged.message.empty() ? "" : "; ", address, ": ", one.message);
    for (auto& [key, value] : one.data) merged.data.emplace_back(absl::StrCat(address, ".", key), std::move(value));
  }
  return merged;
}

}  // namespace physics::ops
