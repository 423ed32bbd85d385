#include "tools/status/sentinel_checks.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/redis/connection.h"
#include "engine/schema/json_writer.h"
#include "tools/status/redis_checks.h"

namespace physics::ops {
namespace {

using Fields = absl::flat_hash_map<std::string, std::string>;

std::string Get(const Fields& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? "" : it->second;
}

int64_t GetInt(const Fields& f, const std::string& key) {
  int64_t v = -1;
  return absl::SimpleAtoi(Get(f, key), &v) ? v : -1;
}

// A flat [key, value, key, value, ...] reply (SENTINEL MASTER, each element
// of SENTINEL REPLICAS) as a map.
Fields PairsOf(const redisReply* r) {
  Fields out;
  if (r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out[std::string(redis::ReplyText(r->element[i]))] = std::string(redis::ReplyText(r->element[i + 1]));
  }
  return out;
}

std::string Why(const absl::Status& s) {
  return std::string(absl::StripPrefix(s.message(), "Redis error: "));
}

// One replica as the master's INFO replication lists it (slaveN lines).
struct ReplicaLink {
  std::string state;
  int64_t offset = -1;
  int64_t lag_seconds = -1;
};

struct MasterReplication {
  absl::flat_hash_map<std::string, ReplicaLink> replicas;  // by "ip:port"
  int64_t offset = -1;                                     // master_repl_offset
};

// INFO replication on the master the sentinel named, with the data nodes'
// credentials; nullopt when it does not answer (the replicas are then
// judged by the sentinel's view alone).
std::optional<MasterReplication> ReadMasterReplication(const redis::Config& cfg, const std::string& ip,
                                                        int port, const StatusOptions& options) {
  redis::Config node;
  node.host = ip;
  node.port = port;
  node.user = cfg.user;
  node.password = cfg.password;
  absl::StatusOr<redis::Connection> conn = redis::Connection::Open(node, options.timeout, options.timeout);
  if (!conn.ok()) return std::nullopt;
  absl::StatusOr<InfoFields> info = ReadInfo(*conn);
  if (!info.ok()) return std::nullopt;
  MasterReplication out;
  for (const auto& [key, value] : *info) {
    if (key == "master_repl_offset") absl::SimpleAtoi(value, &out.offset);
    if (!absl::StartsWith(key, "slave") || key.size() < 6 || !absl::ascii_isdigit(key[5])) continue;
    Fields f;
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
      f[kv.first] = kv.second;
    }
    out.replicas[absl::StrCat(Get(f, "ip"), ":", Get(f, "port"))] =
        ReplicaLink{.state = Get(f, "state"), .offset = GetInt(f, "offset"), .lag_seconds = GetInt(f, "lag")};
  }
  return out;
}

bool HasFlag(const std::string& flags, absl::string_view flag) {
  for (absl::string_view f : absl::StrSplit(flags, ',')) {
    if (f == flag) return true;
  }
  return false;
}

// Judges the replicas: appends their JSON array and returns how many are up.
int64_t AddReplicas(const redisReply* replicas, const std::optional<MasterReplication>& master,
                    CheckResult& c, std::vector<std::string>& lines) {
  int64_t up = 0;
  std::string json = "[";
  const size_t n = replicas->type == REDIS_REPLY_ARRAY ? replicas->elements : 0;
  for (size_t i = 0; i < n; ++i) {
    const Fields f = PairsOf(replicas->element[i]);
    const std::string address = absl::StrCat(Get(f, "ip"), ":", Get(f, "port"));
    const std::string flags = Get(f, "flags");
    const ReplicaLink* link = nullptr;
    if (master.has_value()) {
      auto it = master->replicas.find(address);
      if (it != master->replicas.end()) link = &it->second;
    }
    const bool sentinel_up = !HasFlag(flags, "s_down") && !HasFlag(flags, "disconnected") &&
                             Get(f, "master-link-status") == "ok";
    const bool is_up = sentinel_up && (!master.has_value() || (link != nullptr && link->state == "online"));
    up += is_up;
    const int64_t lag = link != nullptr ? link->lag_seconds : -1;
    const int64_t behind = link != nullptr && master->offset >= 0 && link->offset >= 0
                               ? master->offset - link->offset : -1;
    if (is_up) {
      lines.push_back(absl::StrCat(address, " lag ", lag, " s, ", behind, " B behind"));
    } else {
      lines.push_back(absl::StrCat(address, " down (", flags, ")"));
    }
    if (i > 0) json += ",";
    json += "{\"address\":";
    schema::AppendJsonString(json, address);
    absl::StrAppend(&json, ",\"up\":", is_up ? "true" : "false", ",\"flags\":");
    schema::AppendJsonString(json, flags);
    json += ",\"lag_seconds\":";
    schema::AppendJsonNumber(json, lag);
    json += ",\"behind_bytes\":";
    schema::AppendJsonNumber(json, behind);
    json += "}";
  }
  json += "]";
  c.AddEncoded("replicas", std::move(json));
  c.Add("replicas_known", static_cast<int64_t>(n));
  c.Add("replicas_up", up);
  return up;
}

// CKQUORUM's verdict: "OK 3 usable Sentinels. Quorum and failover
// authorization can be reached", or an error reply (NOQUORUM ...).
void AddQuorum(redis::Connection& sentinel, const redis::Config& cfg, CheckResult& c) {
  absl::StatusOr<redis::Reply> r = sentinel.Command({"SENTINEL", "CKQUORUM", cfg.master_name});
  const std::string text = r.ok() ? std::string(redis::ReplyText(r->get())) : Why(r.status());
  c.Add("quorum_reachable", int64_t{r.ok() ? 1 : 0});
  c.AddText("ckquorum", text);
  if (!r.ok()) c.Raise(Level::kWarn, absl::StrCat("no quorum: ", text));
}

std::string FailoverText(const Fields& master, CheckResult& c) {
  const int64_t epoch = GetInt(master, "config-epoch");
  const int64_t since_ms = epoch > 0 ? GetInt(master, "role-reported-time") : -1;
  c.Add("config_epoch", epoch);
  c.Add("last_failover_ms_ago", since_ms);
  if (epoch == 0) return "no failover seen, config-epoch 0";
  if (since_ms < 0) return absl::StrCat("config-epoch ", epoch);
  return absl::StrCat("last failover ", FormatAge(absl::Milliseconds(since_ms)), " ago, config-epoch ", epoch);
}

}  // namespace

CheckResult CheckSentinels(const redis::Config& cfg, const StatusOptions& options) {
  CheckResult c{.name = "sentinel"};
  std::optional<redis::Connection> asked;  // the first sentinel that answered
  std::string asked_address;
  std::vector<std::string> unreachable;
  int64_t answered = 0;
  for (const redis::HostPort& address : cfg.sentinels->addresses()) {
    redis::Config one;
    one.host = address.host;
    one.port = address.port;
    one.password = cfg.sentinel_password;
    absl::StatusOr<redis::Connection> conn = redis::Connection::Open(one, options.timeout, options.timeout);
    if (!conn.ok()) {
      unreachable.push_back(address.ToString());
      continue;
    }
    ++answered;
    if (!asked.has_value()) {
      asked.emplace(*std::move(conn));
      asked_address = address.ToString();
    }
  }
  const int64_t total = static_cast<int64_t>(cfg.sentinels->addresses().size());
  c.Add("sentinels_total", total);
  c.Add("sentinels_answered", answered);
  c.AddText("sentinels_unreachable", absl::StrJoin(unreachable, ","));
  const std::string sentinels_text = absl::StrCat(answered, " of ", total, " sentinels answered");
  if (!asked.has_value()) {
    c.Raise(Level::kFail, absl::StrCat(sentinels_text, " (", absl::StrJoin(unreachable, ", "),
                                       "): no sentinel can name the master or start a failover"));
    return c;
  }
  c.AddText("asked", asked_address);
  absl::StatusOr<redis::Reply> master_reply = asked->Command({"SENTINEL", "MASTER", cfg.master_name});
  if (!master_reply.ok()) {
    c.Raise(Level::kFail, absl::StrCat("sentinel ", asked_address, ": ", Why(master_reply.status())));
    return c;
  }
  const Fields master = PairsOf(master_reply->get());
  const std::string master_address = absl::StrCat(Get(master, "ip"), ":", Get(master, "port"));
  const std::string master_flags = Get(master, "flags");
  c.AddText("master", master_address);
  c.AddText("master_flags", master_flags);
  c.Add("quorum", GetInt(master, "quorum"));

  std::vector<std::string> replica_lines;
  absl::StatusOr<redis::Reply> replicas = asked->Command({"SENTINEL", "REPLICAS", cfg.master_name});
  const std::optional<MasterReplication> replication =
      ReadMasterReplication(cfg, Get(master, "ip"), static_cast<int>(GetInt(master, "port")), options);
  const int64_t up = replicas.ok() ? AddReplicas(replicas->get(), replication, c, replica_lines) : 0;
  const std::string failover = FailoverText(master, c);
  c.message = absl::StrCat("master ", master_address, " (", failover, "); ", up, " of ", replica_lines.size(),
                           " replicas up", replica_lines.empty() ? "" : ": ", absl::StrJoin(replica_lines, ", "),
                           "; ", sentinels_text, ", quorum ", GetInt(master, "quorum"));
  AddQuorum(*asked, cfg, c);
  if (!replicas.ok()) c.Raise(Level::kWarn, absl::StrCat("SENTINEL REPLICAS: ", Why(replicas.status())));
  if (up < kMinReplicas) c.Raise(Level::kWarn, absl::StrCat("fewer than ", kMinReplicas, " replicas up"));
  if (!unreachable.empty()) {
    c.Raise(Level::kWarn, absl::StrCat("sentinel ", absl::StrJoin(unreachable, ", "), " not answering"));
  }
  if (HasFlag(master_flags, "s_down") || HasFlag(master_flags, "o_down")) {
    c.Raise(Level::kWarn, absl::StrCat("master flagged ", master_flags, ": failover due"));
  }
  if (!replication.has_value()) c.Raise(Level::kWarn, absl::StrCat("master ", master_address, " not answering"));
  return c;
}

}  // namespace physics::ops
