// A Redis Cluster client on hiredis (docs/SPEC.md §9): the masters and the
// slots they serve (CLUSTER SHARDS), one connection per master, commands
// routed by their key's slot (key_slot.h), and pipelines split per master and
// sent to every master before any reply is awaited. Redirections are handled
// per reply: MOVED (refresh the slot map, resend), ASK (ASKING + resend to the
// named node, once), TRYAGAIN (retry shortly), CLUSTERDOWN (the unit fails:
// the caller backs off), and a lost connection or READONLY (a demoted master:
// refresh). engine/redis/README.md, "Cluster", has the table. No Debian package
// offers a cluster client that builds on hiredis 0.14, hence this one.
// Not thread-safe: a Cluster and its pipelines have one owner thread.
//
//   absl::StatusOr<Cluster> cluster = Cluster::Open(cfg, absl::Seconds(1), absl::Seconds(2));
//   ClusterPipeline p;
//   p.Append(KeySlot(key), /*tag=*/7, {"SET", key, json});
//   p.BeginTransaction(KeySlot(channel), /*tag=*/8);   // MULTI ... EXEC on one slot
//   p.AppendToTransaction({"SPUBLISH", channel, message});
//   p.EndTransaction();
//   absl::Status s = p.Execute(*cluster);             // every master at once
//   for (uint32_t tag : p.failed_tags()) ...           // units that did not land
#ifndef PHYSICS_ENGINE_REDIS_CLUSTER_H_
#define PHYSICS_ENGINE_REDIS_CLUSTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/log/throttle.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/pipeline.h"
#include "engine/redis/sentinel_list.h"  // HostPort

namespace physics::redis {

// One shard of CLUSTER SHARDS: a master, its slots, its replicas.
struct ClusterShard {
  std::string master_id;  // the node id
  HostPort master;
  std::vector<std::pair<uint16_t, uint16_t>> slot_ranges;  // inclusive [first, last]
  struct Replica {
    std::string id;
    HostPort address;
    bool online = false;              // health "online"
    int64_t replication_offset = 0;
  };
  std::vector<Replica> replicas;
  int64_t master_replication_offset = 0;
};

// The slot map. Shards without slots (or without a master) are left out.
struct ClusterTopology {
  static constexpr int16_t kNoOwner = -1;

  std::vector<ClusterShard> shards;
  // slot -> index into shards, kNoOwner while the slot is not served.
  std::array<int16_t, kClusterSlots> slot_owner;

  // From the reply of CLUSTER SHARDS (Redis 7). Errors: kInternal naming
  // what was malformed.
  static absl::StatusOr<ClusterTopology> FromShardsReply(const redisReply* reply);
  // The same; a node whose endpoint and ip are empty or "?" ("the node you
  // asked") gets `asked_host`.
  static absl::StatusOr<ClusterTopology> FromShardsReply(const redisReply* reply,
                                                         std::string_view asked_host);
  // Index into shards of the shard whose master is at `address`, or kNoOwner.
  int ShardOf(const HostPort& address) const;
  // Slots served by some master.
  int covered_slots() const;
};

class Cluster {
 public:
  // REQUIRES: cfg.uses_cluster(). Asks the seed nodes in turn for CLUSTER
  // SHARDS (connect_timeout each) and connects to every master (AUTH with
  // cfg's credentials). A master that cannot be reached (down and not failed
  // over yet) does not fail Open: it is left unconnected (one warning line),
  // its units and commands fail as after a loss, and Master() tries it again
  // on use; a Refresh finds its successor. Errors (one line, cfg.Describe(),
  // never the password):
  //   kUnavailable       no seed answered CLUSTER SHARDS;
  //   kFailedPrecondition a seed is not a cluster node ("cluster support
  //                      disabled"): use a redis:// URL;
  //   kUnauthenticated / kPermissionDenied as Connection::Open.
  static absl::StatusOr<Cluster> Open(const Config& cfg, absl::Duration connect_timeout,
                                      absl::Duration io_timeout);

  Cluster(Cluster&&) noexcept;
  Cluster& operator=(Cluster&&) noexcept;
  ~Cluster();

  const ClusterTopology& topology() const { return topology_; }
  size_t masters() const { return topology_.shards.size(); }
  // Index into topology().shards of the master serving `slot`, or
  // ClusterTopology::kNoOwner.
  int MasterOf(uint16_t slot) const { return topology_.slot_owner[slot]; }

  // Re-reads CLUSTER SHARDS (from a known master, else the seeds) and
  // reconnects where a master changed; connections to unchanged masters are
  // kept. At most once per `min_interval` (a storm of MOVED costs one
  // refresh); returns OK without asking when called sooner.
  absl::Status Refresh(absl::Duration min_interval = absl::Milliseconds(100));

  // The connection to master i, (re)opened when it was lost. kUnavailable
  // when it cannot be opened now; after a failed attempt, the same error
  // without a new attempt for 100 ms.
  absl::StatusOr<Connection*> Master(size_t i);

  // The Config for one node (host/port set, seeds cleared, same credentials):
  // for callers that keep their own connections (a bridge's subscribers).
  Config NodeConfig(const HostPort& node) const;

  // A new connection of the caller's own to `master` (e.g. a subscriber),
  // accepted only if ROLE says master: right after a failover the slot map
  // may still name the demoted node, which takes SSUBSCRIBE as a replica but
  // may miss its new master's messages. kUnavailable then (refresh, retry).
  absl::StatusOr<Connection> OpenMasterConnection(const HostPort& master, absl::Duration connect_timeout,
                                                  absl::Duration io_timeout) const;

  // One command whose key is `key`, sent to the master of KeySlot(key),
  // following MOVED/ASK/TRYAGAIN as pipelines do. Error replies other than
  // redirections come back as Connection::Command returns them.
  absl::StatusOr<Reply> Command(std::string_view key, std::initializer_list<std::string_view> argv);
  absl::StatusOr<Reply> Command(std::string_view key, std::span<const std::string_view> argv);

  // Calls fn(shard index, connection) for every master (SCAN, DBSIZE, INFO);
  // stops at and returns the first error.
  absl::Status ForEachMaster(absl::FunctionRef<absl::Status(size_t, Connection&)> fn);

  const Config& config() const { return config_; }

 private:
  friend class ClusterPipeline;
  Cluster(Config cfg, absl::Duration connect_timeout, absl::Duration io_timeout);

  // Asks the masters we know, then the seeds, for CLUSTER SHARDS and adopts
  // the first usable answer (keeping connections to unchanged masters).
  absl::Status LoadTopology();
  // Asks one node; `conn` is an open connection to it or empty (then opened,
  // and kept when the node turns out to be a master).
  absl::StatusOr<ClusterTopology> AskShards(const HostPort& node, Connection* conn,
                                            std::optional<Connection>* opened);
  void Adopt(ClusterTopology topology, const HostPort& answered_by,
             std::optional<Connection> answered_conn);
  // A connection to any node: a master's, or one kept for redirections to
  // nodes that serve no slot yet (ASK during a migration to a new master).
  absl::StatusOr<Connection*> NodeConnection(const HostPort& node);
  // A MOVED named `node` for `slot`: when it is a known master, the slot map
  // says so at once (a refresh may be rate-limited away).
  void NoteMoved(uint16_t slot, const HostPort& node);

  Config config_;
  absl::Duration connect_timeout_;
  absl::Duration io_timeout_;
  ClusterTopology topology_;
  std::vector<std::optional<Connection>> connections_;  // per shard
  // Per shard: a master that could not be connected is not tried again for
  // kReconnectPause (each attempt can cost connect_timeout), and meanwhile
  // Master() returns the error it gave.
  struct FailedConnect {
    absl::Time retry_at = absl::InfinitePast();
    absl::Status error;
  };
  std::vector<FailedConnect> failed_connects_;
  std::vector<std::pair<HostPort, std::optional<Connection>>> other_nodes_;
  absl::Time last_refresh_ = absl::InfinitePast();
};

// A batch of commands for a cluster, split per master. A unit (one command,
// or a MULTI ... EXEC on one slot) is what is resent after a redirection and
// what fails as a whole; each carries the caller's tag so it can tell which
// writes did not land (e.g. the symbols to write again next tick). Units for
// one master keep their order within a round; units for different masters run
// in parallel, and a resent unit lands after the first round's: a caller that
// needs A stored before B is sent executes A, then B.
// The RESP buffers are reused: a steady-state batch allocates nothing.
class ClusterPipeline {
 public:
  // One command on `slot`'s master.
  void Append(uint16_t slot, uint32_t tag, std::initializer_list<std::string_view> argv);
  void Append(uint16_t slot, uint32_t tag, std::span<const std::string_view> argv);
  // One command that must not run twice (e.g. a script that publishes): like
  // a transaction, it fails rather than being resent when its reply was lost.
  void AppendOnce(uint16_t slot, uint32_t tag, std::span<const std::string_view> argv);
  // MULTI, the commands, EXEC: every command's keys (and SPUBLISH channels)
  // must hash to `slot`. REQUIRES: no transaction open (Begin), one open
  // (AppendToTransaction, End).
  void BeginTransaction(uint16_t slot, uint32_t tag);
  void AppendToTransaction(std::initializer_list<std::string_view> argv);
  void AppendToTransaction(std::span<const std::string_view> argv);
  void EndTransaction();

  size_t size() const;  // commands appended (MULTI and EXEC included)
  bool empty() const { return size() == 0; }
  // Drops the units, keeps the buffers. REQUIRES: no SendNow() since the
  // last Execute() (its replies would be left unread).
  void Clear();

  // Sends what every master's socket takes now, without waiting, so the
  // masters work while the caller prepares more (an open transaction waits
  // for Execute). Connection errors show up in Execute.
  void SendNow(Cluster& cluster);

  // Sends every unit (to every master before reading any reply), reads every
  // reply, then resends the units that got MOVED (after one Refresh), ASK
  // (ASKING first), TRYAGAIN (after 15 ms) or met a lost connection (plain
  // commands only: a transaction whose EXEC reply was lost fails), in up to 3
  // rounds. A master that cannot be connected fails its units at once; the
  // other masters' units still land. Returns:
  //   OK            every unit landed;
  //   kUnavailable  some units did not land (a master unreachable, the cluster
  //                 down, redirections that did not settle): failed_tags()
  //                 names them; the others landed;
  //   kInternal     error replies that are not redirections (failed_tags()
  //                 names their units too).
  // The message is one line: "Redis Cluster URL: K of N units did not land;
  // first: <why>". At most one log line per Execute, and one a second
  // (redirections, a master lost), never one per reply.
  // The pipeline is empty afterwards. REQUIRES: no transaction open.
  absl::Status Execute(Cluster& cluster);

  // Tags of the units of the last Execute() that did not land, in no order.
  std::span<const uint32_t> failed_tags() const { return failed_tags_; }
  // The first error reply (not a redirection) of each unit of the last
  // Execute() that failed on one, in no order: e.g. a script's own refusal.
  std::span<const Pipeline::ReplyError> error_replies() const { return error_replies_; }

 private:
  // A unit: its RESP (encoded once, resent as is) and what it is for.
  struct Unit {
    uint16_t slot;
    uint32_t tag;
    size_t begin, end;  // byte range in units_buffer_
    size_t commands;
    bool once;  // a transaction or AppendOnce: never resent after its reply was lost
  };
  // A unit to send in the current round, and where: `node` < 0 means the
  // master of its slot; otherwise an index into redirect_nodes_ (a MOVED or
  // ASK target), with ASKING first when `asking`.
  struct Pending {
    size_t unit;
    int node = -1;
    bool asking = false;
  };
  // One node's share of a round: a pipeline, and which replies are whose.
  struct Destination {
    struct Sent {
      size_t unit;
      size_t first_reply;
      size_t replies;  // the unit's, plus ASKING's
    };
    Pipeline pipeline;
    std::vector<Sent> sent;
    std::vector<Pipeline::ReplyError> errors;
    HostPort node;
    Connection* conn = nullptr;  // null: could not connect (connect_error)
    absl::Status connect_error;
    bool used = false;
  };
  // What happened in one Execute, for its log lines and its status.
  struct Events {
    size_t moved = 0, asked = 0, resent = 0, failed = 0;
    bool refresh = false;    // a MOVED or a lost master asks for one
    bool refreshed = false;  // done (at most once per Execute)
    bool internal = false;   // an error reply that is no redirection
    std::string first_failure;
    std::string lost_node;
    std::string last_try_again;
  };

  // Resets the per-batch state (failed tags, events) unless SendNow() did.
  void StartBatchIfNew();
  // Moves pending_ into the destinations' pipelines (a unit whose slot has no
  // master fails at once).
  void Assign(Cluster& cluster);
  // The destination for `p`, connected (or with its connect error) when
  // first used in a round; nullptr when the unit's slot has no master.
  Destination* DestinationFor(Cluster& cluster, const Pending& p);
  // Sends every used destination's buffer, then reads each one's replies and
  // sorts every unit sent into landed, next round (next_) or failed.
  void RunRound(Cluster& cluster);
  void Collect(Cluster& cluster, Destination& d);
  void Fail(size_t unit, std::string_view why, bool internal);
  void LogEvents(size_t units);
  // Index into redirect_nodes_ of host:port ("" = the replying node's host).
  int RedirectNode(std::string_view host, int port, const HostPort& replied);

  std::string units_buffer_;  // every unit's RESP, in append order
  std::vector<Unit> units_;
  std::optional<size_t> open_transaction_;
  size_t commands_ = 0;
  size_t assigned_ = 0;  // units_ [0, assigned_) sit in destinations (SendNow)
  std::vector<Destination> destinations_;  // per master, then redirect nodes
  std::vector<Pending> pending_, next_;
  std::vector<HostPort> redirect_nodes_;   // grows only on redirections
  std::vector<HostPort> unreachable_;      // nodes that failed in this Execute
  std::vector<uint32_t> failed_tags_;
  std::vector<Pipeline::ReplyError> error_replies_;
  Events events_;
  bool try_again_ = false;
  log::Throttle log_throttle_{1};  // a line a second at most
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_CLUSTER_H_
