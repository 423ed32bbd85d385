#include "engine/redis/cluster.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/log/log.h"
#include "engine/redis/internal/cluster_redirect.h"
#include "engine/redis/error_reply.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

using internal::kTryAgainPause;
using internal::Redirect;

// Command attempts (redirections followed) before Cluster::Command gives up.
constexpr int kMaxCommandAttempts = 5;
// A master that refused or timed out a connect is left alone this long.
constexpr absl::Duration kReconnectPause = absl::Milliseconds(100);

}  // namespace

// --- Cluster ----------------------------------------------------------------

Cluster::Cluster(Config cfg, absl::Duration connect_timeout, absl::Duration io_timeout)
    : config_(std::move(cfg)), connect_timeout_(connect_timeout), io_timeout_(io_timeout) {
  topology_.slot_owner.fill(ClusterTopology::kNoOwner);
}

Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&&) noexcept = default;
Cluster::~Cluster() = default;

absl::StatusOr<Cluster> Cluster::Open(const Config& cfg, absl::Duration connect_timeout,
                                      absl::Duration io_timeout) {
  if (!cfg.uses_cluster()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cfg.Describe(), ": not a redis-cluster:// URL; use Connection::Open"));
  }
  Cluster cluster(cfg, connect_timeout, io_timeout);
  if (absl::Status s = cluster.LoadTopology(); !s.ok()) return s;
  // A master that cannot be reached now (down, not failed over yet) is left
  // unconnected: its units fail as after a loss, and Master() tries it again
  // on use. Refused credentials are the same on every node: said now.
  std::vector<std::string> unreachable;
  for (size_t i = 0; i < cluster.masters(); ++i) {
    absl::StatusOr<Connection*> conn = cluster.Master(i);
    if (conn.ok()) continue;
    if (absl::IsUnauthenticated(conn.status()) || absl::IsPermissionDenied(conn.status())) return conn.status();
    unreachable.push_back(std::string(conn.status().message()));
  }
  if (!unreachable.empty()) {
    log::Warn(absl::StrCat("Redis Cluster ", cfg.Describe(), ": ", unreachable.size(), " of ", cluster.masters(),
                           " masters unreachable at start (", absl::StrJoin(unreachable, "; "),
                           "); their slots fail until they answer or are failed over"));
  }
  return cluster;
}

absl::StatusOr<Connection> Cluster::OpenMasterConnection(const HostPort& master, absl::Duration connect_timeout,
                                                          absl::Duration io_timeout) const {
  absl::StatusOr<Connection> conn = Connection::Open(NodeConfig(master), connect_timeout, io_timeout);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<Reply> role = conn->Command({"ROLE"});
  if (!role.ok()) return role.status();
  if ((*role)->type != REDIS_REPLY_ARRAY || (*role)->elements == 0 || ReplyText((*role)->element[0]) != "master") {
    return absl::UnavailableError(
        absl::StrCat("Redis ", master.ToString(), " is no longer a master (slot map not updated yet)"));
  }
  return conn;
}

Config Cluster::NodeConfig(const HostPort& node) const {
  Config cfg = config_;
  cfg.host = node.host;
  cfg.port = node.port;
  cfg.unix_path.clear();
  cfg.db = 0;
  cfg.cluster_seeds.clear();
  cfg.cluster_node = true;
  cfg.sentinels.reset();
  cfg.master_name.clear();
  return cfg;
}

absl::StatusOr<ClusterTopology> Cluster::AskShards(const HostPort& node, Connection* conn,
                                                   std::optional<Connection>* opened) {
  if (conn == nullptr) {
    absl::StatusOr<Connection> fresh =
        Connection::Open(NodeConfig(node), connect_timeout_, io_timeout_);
    if (!fresh.ok()) return fresh.status();
    opened->emplace(*std::move(fresh));
    conn = &**opened;
  }
  absl::StatusOr<Reply> reply = conn->Command({"CLUSTER", "SHARDS"});
  if (!reply.ok()) {
    if (absl::StrContains(reply.status().message(), "cluster support disabled")) {
      return absl::FailedPreconditionError(
          absl::StrCat("Redis ", node.ToString(),
                       " is not a cluster node (cluster support disabled): use a redis:// URL"));
    }
    return reply.status();
  }
  absl::StatusOr<ClusterTopology> topology =
      ClusterTopology::FromShardsReply(reply->get(), node.host);
  if (topology.ok() && topology->shards.empty()) {
    return absl::UnavailableError(absl::StrCat(node.ToString(), " knows no master serving slots"));
  }
  return topology;
}

absl::Status Cluster::LoadTopology() {
  std::vector<std::string> answers;
  auto ask = [&](const HostPort& node, Connection* conn) -> absl::Status {
    std::optional<Connection> opened;
    absl::StatusOr<ClusterTopology> topology = AskShards(node, conn, &opened);
    if (topology.ok()) {
      Adopt(*std::move(topology), node, std::move(opened));
      return absl::OkStatus();
    }
    answers.push_back(absl::StrCat(node.ToString(), ": ", topology.status().message()));
    return topology.status();
  };
  // The masters we know answer first (no new connection); then the seeds.
  for (size_t i = 0; i < connections_.size(); ++i) {
    if (!connections_[i].has_value() || !connections_[i]->ok()) continue;
    if (ask(topology_.shards[i].master, &*connections_[i]).ok()) return absl::OkStatus();
  }
  for (const HostPort& seed : config_.cluster_seeds) {
    const absl::Status s = ask(seed, nullptr);
    if (s.ok()) return s;
    if (absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s) ||
        absl::IsFailedPrecondition(s)) {
      return absl::Status(s.code(), absl::StrCat(config_.Describe(), ": ", s.message()));
    }
  }
  last_refresh_ = absl::Now();  // a failed round counts: no storm of attempts
  return absl::UnavailableError(absl::StrCat(config_.Describe(),
                                             ": no node answered CLUSTER SHARDS: ",
                                             absl::StrJoin(answers, "; ")));
}

void Cluster::Adopt(ClusterTopology topology, const HostPort& answered_by,
                    std::optional<Connection> answered_conn) {
  std::vector<std::optional<Connection>> connections(topology.shards.size());
  std::vector<FailedConnect> failed_connects(topology.shards.size());
  for (size_t i = 0; i < topology.shards.size(); ++i) {
    const int old = topology_.ShardOf(topology.shards[i].master);
    if (old != ClusterTopology::kNoOwner) failed_connects[i] = std::move(failed_connects_[old]);
    if (old != ClusterTopology::kNoOwner && connections_[old].has_value()) {
      connections[i] = std::move(connections_[old]);
    } else if (answered_conn.has_value() && topology.shards[i].master == answered_by) {
      connections[i] = std::move(answered_conn);
    }
  }
  // CLUSTER SHARDS lists shards in no fixed order: compare the sets.
  auto sorted_masters = [](const ClusterTopology& t) {
    std::vector<std::string> masters;
    for (const ClusterShard& shard : t.shards) masters.push_back(shard.master.ToString());
    std::sort(masters.begin(), masters.end());
    return masters;
  };
  if (!topology_.shards.empty()) {
    std::vector<std::string> now = sorted_masters(topology);
    if (now != sorted_masters(topology_)) {
      log::Info(absl::StrCat("Redis Cluster ", config_.Describe(), ": masters now ",
                             absl::StrJoin(now, ", "), " (", topology.covered_slots(),
                             " slots served)"));
    }
  }
  topology_ = std::move(topology);
  connections_ = std::move(connections);
  failed_connects_ = std::move(failed_connects);
  last_refresh_ = absl::Now();
}

absl::Status Cluster::Refresh(absl::Duration min_interval) {
  if (absl::Now() - last_refresh_ < min_interval) return absl::OkStatus();
  return LoadTopology();
}

void Cluster::NoteMoved(uint16_t slot, const HostPort& node) {
  const int shard = topology_.ShardOf(node);
  if (shard != ClusterTopology::kNoOwner) topology_.slot_owner[slot] = static_cast<int16_t>(shard);
}

absl::StatusOr<Connection*> Cluster::Master(size_t i) {
  std::optional<Connection>& conn = connections_[i];
  if (conn.has_value() && conn->ok()) return &*conn;
  conn.reset();
  FailedConnect& failed = failed_connects_[i];
  const absl::Time now = absl::Now();
  if (now < failed.retry_at) return failed.error;
  absl::StatusOr<Connection> fresh =
      Connection::Open(NodeConfig(topology_.shards[i].master), connect_timeout_, io_timeout_);
  if (!fresh.ok()) {
    failed = {now + kReconnectPause, fresh.status()};
    return fresh.status();
  }
  failed = {};
  conn.emplace(*std::move(fresh));
  return &*conn;
}

absl::StatusOr<Connection*> Cluster::NodeConnection(const HostPort& node) {
  if (const int shard = topology_.ShardOf(node); shard != ClusterTopology::kNoOwner) {
    return Master(static_cast<size_t>(shard));
  }
  auto it = std::find_if(other_nodes_.begin(), other_nodes_.end(),
                         [&node](const auto& entry) { return entry.first == node; });
  if (it == other_nodes_.end()) {
    // Nodes outside the slot map are rare (a new master during a migration).
    if (other_nodes_.size() >= 8) other_nodes_.clear();
    it = other_nodes_.insert(other_nodes_.end(), {node, std::nullopt});
  }
  if (it->second.has_value() && it->second->ok()) return &*it->second;
  it->second.reset();
  absl::StatusOr<Connection> fresh = Connection::Open(NodeConfig(node), connect_timeout_, io_timeout_);
  if (!fresh.ok()) return fresh.status();
  it->second.emplace(*std::move(fresh));
  return &*it->second;
}

absl::Status Cluster::ForEachMaster(absl::FunctionRef<absl::Status(size_t, Connection&)> fn) {
  for (size_t i = 0; i < masters(); ++i) {
    absl::StatusOr<Connection*> conn = Master(i);
    if (!conn.ok()) return conn.status();
    if (absl::Status s = fn(i, **conn); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> Cluster::Command(std::string_view key,
                                       std::initializer_list<std::string_view> argv) {
  return Command(key, std::span<const std::string_view>(argv.begin(), argv.size()));
}

absl::StatusOr<Reply> Cluster::Command(std::string_view key,
                                       std::span<const std::string_view> argv) {
  const uint16_t slot = KeySlot(key);
  std::optional<HostPort> redirected;  // the node a MOVED or ASK named
  bool asking = false;
  absl::Status last = absl::UnavailableError("not tried");
  for (int attempt = 0; attempt < kMaxCommandAttempts; ++attempt) {
    absl::StatusOr<Connection*> conn = absl::UnavailableError("");
    std::string asked_host;  // for a redirection that names no host
    if (redirected.has_value()) {
      asked_host = redirected->host;
      conn = NodeConnection(*redirected);
    } else if (const int shard = MasterOf(slot); shard != ClusterTopology::kNoOwner) {
      asked_host = topology_.shards[shard].master.host;
      conn = Master(static_cast<size_t>(shard));
    } else {
      conn = absl::UnavailableError(absl::StrCat("no master serves slot ", slot));
    }
    if (conn.ok() && asking) {
      absl::StatusOr<Reply> ok = (*conn)->Command({"ASKING"});
      if (!ok.ok()) conn = ok.status();
    }
    redirected.reset();
    asking = false;
    if (!conn.ok()) {
      last = conn.status();
      if (absl::IsUnauthenticated(last) || absl::IsPermissionDenied(last)) return last;
      Refresh().IgnoreError();  // errors show up as the next attempt's
      continue;
    }
    absl::StatusOr<Reply> reply = (*conn)->Command(argv);
    if (reply.ok()) return reply;
    last = reply.status();
    if (!(*conn)->ok()) {  // lost, or READONLY (a demoted master)
      Refresh().IgnoreError();
      continue;
    }
    const Redirect redirect = internal::ParseRedirect(ErrorReplyText(reply.status()));
    switch (redirect.kind) {
      case Redirect::Kind::kNone:
        return reply;
      case Redirect::Kind::kClusterDown:
        return absl::UnavailableError(absl::StrCat(config_.Describe(), ": ", reply.status().message()));
      case Redirect::Kind::kTryAgain:
        absl::SleepFor(kTryAgainPause);
        break;
      case Redirect::Kind::kMoved:
      case Redirect::Kind::kAsk: {
        redirected = HostPort{redirect.host.empty() ? asked_host : std::string(redirect.host),
                              redirect.port};
        asking = redirect.kind == Redirect::Kind::kAsk;
        if (!asking) {
          NoteMoved(redirect.slot, *redirected);
          Refresh().IgnoreError();
        }
        break;
      }
    }
  }
  return absl::UnavailableError(absl::StrCat(config_.Describe(), ": slot ", slot,
                                             ": gave up after ", kMaxCommandAttempts,
                                             " attempts; last: ", last.message()));
}

}  // namespace physics::redis
