#include "tests/support/cluster_set.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/redis/key_slot.h"
#include "tests/support/process.h"
#include "tests/support/redis_reads.h"
#include "tests/support/sentinel_set.h"  // RoleOf

namespace physics::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

// The port of "ip:port@cport[,hostname]" (CLUSTER NODES' address field), or 0.
int PortOf(absl::string_view address) {
  const size_t colon = address.rfind(':', address.find('@'));
  if (colon == absl::string_view::npos) return 0;
  const absl::string_view rest = address.substr(colon + 1);
  int port = 0;
  return absl::SimpleAtoi(rest.substr(0, rest.find('@')), &port) ? port : 0;
}

// slot -> port of the master serving it (0: none), from CLUSTER NODES:
// "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...".
// Masters flagged "fail" are left out; "[slot->-id]" migration marks too.
std::vector<int> SlotOwners(absl::string_view cluster_nodes) {
  std::vector<int> owners(redis::kClusterSlots, 0);
  for (const absl::string_view line : absl::StrSplit(cluster_nodes, '\n', absl::SkipEmpty())) {
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 8) continue;
    const std::vector<absl::string_view> flags = absl::StrSplit(fields[2], ',');
    const auto has = [&flags](absl::string_view f) {
      return std::find(flags.begin(), flags.end(), f) != flags.end();
    };
    if (!has("master") || has("fail")) continue;
    const int port = PortOf(fields[1]);
    for (size_t i = 8; i < fields.size(); ++i) {
      if (absl::StartsWith(fields[i], "[")) continue;
      const std::vector<absl::string_view> range = absl::StrSplit(fields[i], '-');
      int first = 0;
      int last = 0;
      if (!absl::SimpleAtoi(range[0], &first)) continue;
      if (range.size() < 2 || !absl::SimpleAtoi(range[1], &last)) last = first;
      for (int s = first; s <= last && s < redis::kClusterSlots; ++s) owners[s] = port;
    }
  }
  return owners;
}

// "first-last:port ..." runs of equal owners: a slot map to compare.
std::string EncodeRuns(const std::vector<int>& owners) {
  std::vector<std::string> runs;
  size_t first = 0;
  for (size_t s = 1; s <= owners.size(); ++s) {
    if (s == owners.size() || owners[s] != owners[first]) {
      runs.push_back(absl::StrCat(first, "-", s - 1, ":", owners[first]));
      first = s;
    }
  }
  return absl::StrJoin(runs, " ");
}

std::string Text(const redisReply* r) { return std::string(redis::ReplyText(r)); }

}  // namespace

ClusterSet::ClusterSet(ClusterSetOptions options) : options_(std::move(options)) {}

ClusterSet::~ClusterSet() { Stop(); }

absl::Status ClusterSet::Start() {
  const absl::Time deadline = absl::Now() + options_.ready_timeout;
  const int count = options_.masters * (1 + options_.replicas_per_master);
  for (int i = 0; i < count; ++i) {
    RedisServerOptions node_options{
        .extra_args = {"--cluster-node-timeout",
                       absl::StrCat(absl::ToInt64Milliseconds(options_.node_timeout)),
                       "--cluster-require-full-coverage",
                       options_.require_full_coverage ? "yes" : "no"},
        .password = options_.password,
        .cluster_enabled = true};
    if (!options_.password.empty()) {
      node_options.extra_args.insert(node_options.extra_args.end(),
                                     {"--masterauth", options_.password});
    }
    nodes_.push_back(std::make_unique<RedisServer>(std::move(node_options)));
    if (absl::Status s = nodes_.back()->Start(); !s.ok()) return s;
  }
  if (absl::Status s = CreateCluster(); !s.ok()) return s;
  if (absl::Status s = WaitForClusterOk(deadline - absl::Now()); !s.ok()) return s;
  return WaitForReplicaLinks(deadline);
}

absl::Status ClusterSet::CreateCluster() {
  ProcessOptions opts{.argv = {"redis-cli", "--cluster", "create"}};
  for (const auto& node : nodes_) opts.argv.push_back(absl::StrCat("127.0.0.1:", node->port()));
  opts.argv.insert(opts.argv.end(), {"--cluster-replicas",
                                     absl::StrCat(options_.replicas_per_master), "--cluster-yes"});
  // Through the environment: `-a` would print a warning about the command line.
  if (!options_.password.empty()) opts.env.push_back({"REDISCLI_AUTH", options_.password});
  absl::StatusOr<Process> cli = Process::Spawn(std::move(opts));
  if (!cli.ok()) return cli.status();
  absl::StatusOr<ExitStatus> exit = cli->Wait(options_.ready_timeout);
  if (!exit.ok() || !exit->success()) {
    const std::string out = cli->ReadStdout() + cli->ReadStderr();
    return absl::InternalError(absl::StrCat(
        "redis-cli --cluster create failed (", exit.ok() ? exit->ToString() : exit.status().ToString(),
        "): ", out.substr(out.size() > 600 ? out.size() - 600 : 0)));
  }
  return absl::OkStatus();
}

absl::Status ClusterSet::WaitForReplicaLinks(absl::Time deadline) {
  std::string last;
  while (absl::Now() < deadline) {
    bool all_up = true;
    for (size_t i : RunningNodes()) {
      absl::StatusOr<redis::Reply> role = node(i).Run({"ROLE"});
      if (!role.ok() || (*role)->type != REDIS_REPLY_ARRAY || (*role)->elements < 3) {
        all_up = false;
        last = absl::StrCat("node on port ", node(i).port(), " does not answer ROLE");
        break;
      }
      const redisReply* r = role->get();
      if (Text(r->element[0]) == "slave" &&
          (r->elements < 4 || Text(r->element[3]) != "connected")) {
        all_up = false;
        last = absl::StrCat("replica on port ", node(i).port(), " is not linked to its master");
        break;
      }
    }
    if (all_up) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("replicas did not link up in time: ", last));
}

void ClusterSet::Stop() {
  for (auto& node : nodes_) node->Stop();
}

std::string ClusterSet::url() const {
  std::vector<std::string> addresses;
  for (const auto& node : nodes_) addresses.push_back(absl::StrCat("127.0.0.1:", node->port()));
  return absl::StrCat("redis-cluster://", absl::StrJoin(addresses, ","));
}

redis::Config ClusterSet::config() const {
  absl::StatusOr<redis::Config> cfg = redis::ParseRedisUrl(url());
  if (!cfg.ok()) return redis::Config();  // not reached: url() is well formed
  cfg->password = options_.password;
  return *std::move(cfg);
}

std::vector<size_t> ClusterSet::RunningNodes() {
  std::vector<size_t> running;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->running() && !nodes_[i]->paused()) running.push_back(i);
  }
  return running;
}

absl::StatusOr<std::string> ClusterSet::SlotMapSeenBy(size_t i) {
  const std::string info = node(i).String({"CLUSTER", "INFO"});
  if (InfoField(info, "cluster_state") != "ok") {
    return absl::UnavailableError(absl::StrCat("node on port ", node(i).port(),
                                               " says cluster_state:", InfoField(info, "cluster_state")));
  }
  return EncodeRuns(SlotOwners(node(i).String({"CLUSTER", "NODES"})));
}

absl::Status ClusterSet::WaitForClusterOk(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "not asked";
  while (absl::Now() < deadline) {
    std::string agreed;
    bool ok = true;
    for (size_t i : RunningNodes()) {
      absl::StatusOr<std::string> map = SlotMapSeenBy(i);
      if (!map.ok()) {
        ok = false;
        last = std::string(map.status().message());
        break;
      }
      if (absl::StrContains(*map, ":0")) {  // a slot without a master
        ok = false;
        last = absl::StrCat("node on port ", node(i).port(), " sees unserved slots: ", *map);
        break;
      }
      if (!agreed.empty() && *map != agreed) {
        ok = false;
        last = absl::StrCat("slot maps differ: \"", agreed, "\" vs \"", *map, "\" (port ",
                            node(i).port(), ")");
        break;
      }
      agreed = *map;
    }
    if (ok && !agreed.empty()) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("the cluster was not ok within ",
                                                  absl::FormatDuration(timeout), ": ", last));
}

absl::StatusOr<size_t> ClusterSet::NodeWithPort(int port) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->port() == port) return i;
  }
  return absl::NotFoundError(absl::StrCat("no node on port ", port));
}

absl::StatusOr<size_t> ClusterSet::MasterOf(uint16_t slot) {
  for (size_t i : RunningNodes()) {
    const std::string nodes = node(i).String({"CLUSTER", "NODES"});
    if (nodes.empty()) continue;
    const int port = SlotOwners(nodes)[slot];
    if (port == 0) return absl::NotFoundError(absl::StrCat("no master serves slot ", slot));
    return NodeWithPort(port);
  }
  return absl::UnavailableError("no node answers CLUSTER NODES");
}

absl::StatusOr<size_t> ClusterSet::ReplicaOf(size_t master) {
  const int port = node(master).port();
  for (size_t i : RunningNodes()) {
    // ["slave", master host, master port (an integer), link state, offset]
    absl::StatusOr<redis::Reply> role = node(i).Run({"ROLE"});
    if (role.ok() && (*role)->type == REDIS_REPLY_ARRAY && (*role)->elements >= 3 &&
        Text((*role)->element[0]) == "slave" && (*role)->element[2]->integer == port) {
      return i;
    }
  }
  return absl::NotFoundError(absl::StrCat("no running replica of the node on port ", port));
}

absl::StatusOr<std::string> ClusterSet::NodeId(size_t i) {
  absl::StatusOr<redis::Reply> id = node(i).Run({"CLUSTER", "MYID"});
  if (!id.ok()) return id.status();
  return Text(id->get());
}

absl::Status ClusterSet::Run(size_t i, std::initializer_list<std::string_view> argv) {
  absl::StatusOr<redis::Reply> r = node(i).Run(argv);
  if (!r.ok()) {
    std::string command;
    for (std::string_view arg : argv) absl::StrAppend(&command, command.empty() ? "" : " ", std::string(arg));
    return absl::Status(r.status().code(), absl::StrCat("node on port ", node(i).port(), ": ",
                                                        command, ": ", r.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ClusterSet::Failover(size_t replica, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (absl::Status s = Run(replica, {"CLUSTER", "FAILOVER"}); !s.ok()) return s;
  while (RoleOf(node(replica).config()) != "master") {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the replica on port ", node(replica).port(), " was not promoted in time"));
    }
    absl::SleepFor(kPollInterval);
  }
  return WaitForClusterOk(deadline - absl::Now());
}

absl::Status ClusterSet::BeginSlotMigration(uint16_t slot, size_t from, size_t to) {
  absl::StatusOr<std::string> from_id = NodeId(from);
  absl::StatusOr<std::string> to_id = NodeId(to);
  if (!from_id.ok()) return from_id.status();
  if (!to_id.ok()) return to_id.status();
  const std::string s = absl::StrCat(slot);
  if (absl::Status st = Run(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", *from_id}); !st.ok()) {
    return st;
  }
  return Run(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", *to_id});
}

absl::StatusOr<int> ClusterSet::MigrateKeys(uint16_t slot, size_t from, size_t to, int max_keys) {
  absl::StatusOr<redis::Reply> keys =
      node(from).Run({"CLUSTER", "GETKEYSINSLOT", absl::StrCat(slot), absl::StrCat(max_keys)});
  if (!keys.ok()) return keys.status();
  if ((*keys)->type != REDIS_REPLY_ARRAY) return absl::InternalError("GETKEYSINSLOT: not an array");
  if ((*keys)->elements == 0) return 0;
  std::vector<std::string> args = {"MIGRATE", "127.0.0.1", absl::StrCat(node(to).port()), "",
                                   "0", "5000"};
  if (!options_.password.empty()) args.insert(args.end(), {"AUTH", options_.password});
  args.push_back("KEYS");
  for (size_t k = 0; k < (*keys)->elements; ++k) {
    args.push_back(Text((*keys)->element[k]));
  }
  std::vector<std::string_view> argv(args.begin(), args.end());
  absl::StatusOr<redis::Connection> conn = node(from).Connect();
  if (!conn.ok()) return conn.status();
  absl::StatusOr<redis::Reply> moved = conn->Command(argv);
  if (!moved.ok()) return moved.status();
  return static_cast<int>((*keys)->elements);
}

absl::Status ClusterSet::FinishSlotMigration(uint16_t slot, size_t from, size_t to) {
  absl::StatusOr<std::string> to_id = NodeId(to);
  if (!to_id.ok()) return to_id.status();
  const std::string s = absl::StrCat(slot);
  // The target first, then the source (Redis's order), then the other masters.
  std::vector<size_t> order = {to, from};
  for (size_t i : RunningNodes()) {
    if (i != to && i != from && RoleOf(node(i).config()) == "master") order.push_back(i);
  }
  for (size_t i : order) {
    if (absl::Status st = Run(i, {"CLUSTER", "SETSLOT", s, "NODE", *to_id}); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace physics::testing
