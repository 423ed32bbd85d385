// A Redis Cluster for integration tests: masters and their replicas, each a
// RedisServer with --cluster-enabled on a free loopback port (its bus port,
// port + 10000, free too), joined by `redis-cli --cluster create`, ready once
// every node says cluster_state:ok and all agree on the slot map. Helpers
// kill, pause, fail over and migrate slots. Everything is stopped by PID.
// Not thread-safe: one test thread drives it (node(i).Kill() may come from
// another thread while the owner is blocked elsewhere).
//
//   ClusterSet cluster;                          // 3 masters, 1 replica each
//   ASSERT_TRUE(cluster.Start().ok());
//   absl::StatusOr<redis::Cluster> c = redis::Cluster::Open(cluster.config(), ...);
//   absl::StatusOr<size_t> m = cluster.MasterOf(redis::KeySlot("k"));
//   cluster.node(*m).Kill();                     // its replica takes over
//   ASSERT_TRUE(cluster.WaitForClusterOk(absl::Seconds(15)).ok());
#ifndef PHYSICS_TESTS_SUPPORT_CLUSTER_SET_H_
#define PHYSICS_TESTS_SUPPORT_CLUSTER_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/config.h"
#include "tests/support/redis_server.h"

namespace physics::testing {

struct ClusterSetOptions {
  int masters = 3;
  int replicas_per_master = 1;
  // --cluster-node-timeout: how long a silent master takes to count as
  // failed (its replica is promoted about 1-2 s later).
  absl::Duration node_timeout = absl::Milliseconds(2000);
  // requirepass and masterauth on every node.
  std::string password = {};
  // --cluster-require-full-coverage: with yes (Redis's default) every node
  // refuses writes (CLUSTERDOWN) while any slot has no master.
  bool require_full_coverage = true;
  // How long Start() waits for the cluster to form.
  absl::Duration ready_timeout = absl::Seconds(20);
};

class ClusterSet {
 public:
  explicit ClusterSet(ClusterSetOptions options = {});
  ClusterSet(const ClusterSet&) = delete;
  ClusterSet& operator=(const ClusterSet&) = delete;
  ~ClusterSet();  // Stop()

  // Starts every node, runs `redis-cli --cluster create` (the first `masters`
  // nodes become the masters) and waits for WaitForClusterOk and for every
  // replica's link to its master (bounded by ready_timeout).
  absl::Status Start();
  // Stops every node (paused ones are resumed first).
  void Stop();

  RedisServer& node(size_t i) { return *nodes_[i]; }
  size_t node_count() const { return nodes_.size(); }

  // "redis-cluster://127.0.0.1:P1,...,127.0.0.1:Pn" (every node), no password.
  std::string url() const;
  // url() parsed, with the password.
  redis::Config config() const;

  // Waits until every running, unpaused node says cluster_state:ok and all
  // of them name the same master for every slot. kDeadlineExceeded saying
  // what was seen last.
  absl::Status WaitForClusterOk(absl::Duration timeout);

  // The node serving `slot` as master, as the first running node that
  // answers sees it. kNotFound when no master serves it.
  absl::StatusOr<size_t> MasterOf(uint16_t slot);
  // A running replica of node `master` (as the replica sees it).
  absl::StatusOr<size_t> ReplicaOf(size_t master);
  // CLUSTER MYID of node i.
  absl::StatusOr<std::string> NodeId(size_t i);

  // CLUSTER FAILOVER on replica i (a manual failover: no write is lost),
  // then waits until node i is a master and WaitForClusterOk.
  absl::Status Failover(size_t replica, absl::Duration timeout);

  // Moving `slot` from master `from` to master `to`, in Redis's three steps:
  // SETSLOT IMPORTING on `to` and MIGRATING on `from`; MIGRATE up to
  // `max_keys` of its keys (returns how many moved); SETSLOT NODE on `to`,
  // `from` and every other running master.
  absl::Status BeginSlotMigration(uint16_t slot, size_t from, size_t to);
  absl::StatusOr<int> MigrateKeys(uint16_t slot, size_t from, size_t to, int max_keys);
  absl::Status FinishSlotMigration(uint16_t slot, size_t from, size_t to);

 private:
  absl::Status CreateCluster();
  absl::Status WaitForReplicaLinks(absl::Time deadline);
  // The node's view of the slot map, "first-last:port ..." in slot order, or
  // an error when it does not answer or says cluster_state is not ok.
  absl::StatusOr<std::string> SlotMapSeenBy(size_t i);
  std::vector<size_t> RunningNodes();
  absl::StatusOr<size_t> NodeWithPort(int port) const;
  absl::Status Run(size_t i, std::initializer_list<std::string_view> argv);

  ClusterSetOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_CLUSTER_SET_H_
