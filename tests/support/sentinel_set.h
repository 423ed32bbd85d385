// Redis Sentinel for integration tests: SentinelProcess is one sentinel
// (`redis-server FILE --sentinel --port P`, its own writable config file in a
// temp dir); SentinelSet is a master, replicas started with --replicaof and
// sentinels watching them, all on free loopback ports, ready once every
// sentinel sees the others and every replica. Everything is stopped by PID.
// Not thread-safe: one test thread drives them.
//
//   SentinelSet set;                              // master + 2 replicas + 3 sentinels
//   ASSERT_TRUE(set.Start().ok());
//   absl::StatusOr<redis::Connection> c = redis::Connection::Open(set.config(), ...);
//   set.node(0).Kill();                           // the master dies
//   absl::StatusOr<int> port = set.WaitForNewMaster(set.node(0).port(), absl::Seconds(15));
#ifndef PHYSICS_TESTS_SUPPORT_SENTINEL_SET_H_
#define PHYSICS_TESTS_SUPPORT_SENTINEL_SET_H_

#include <sys/types.h>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace physics::testing {

struct SentinelProcessOptions {
  std::string master_name = "mymaster";
  int master_port = 0;  // on 127.0.0.1; REQUIRED
  int quorum = 2;
  absl::Duration down_after = absl::Seconds(1);
  absl::Duration failover_timeout = absl::Seconds(3);
  std::string data_password = {};  // sentinel auth-pass: how it logs in to the data nodes
  std::string password = {};       // requirepass, and sentinel-pass towards the other sentinels
};

class SentinelProcess {
 public:
  explicit SentinelProcess(SentinelProcessOptions options);
  SentinelProcess(const SentinelProcess&) = delete;
  SentinelProcess& operator=(const SentinelProcess&) = delete;
  ~SentinelProcess();  // Stop()

  // Writes the config file, starts the sentinel on a free port (another one
  // if that port was taken meanwhile) and waits until it answers PING.
  // Errors carry the tail of its log. REQUIRES: not running.
  absl::Status Start();
  // SIGTERM, wait (SIGKILL after 5 s), reap. No-op when not running.
  void Stop();

  int port() const { return port_; }
  // 127.0.0.1:port() with the sentinel's password.
  redis::Config config() const;
  // One command on a fresh connection.
  absl::StatusOr<redis::Reply> Run(std::initializer_list<std::string_view> argv) const;
  std::string ReadLog() const;

 private:
  absl::Status StartOnce(bool* port_taken);

  SentinelProcessOptions options_;
  std::optional<TempDir> dir_;
  int port_ = 0;
  std::optional<Process> process_;
};

struct SentinelSetOptions {
  std::string master_name = "mymaster";
  int replicas = 2;
  int sentinels = 3;
  std::string data_password = {};      // requirepass and masterauth on every data node
  std::string sentinel_password = {};  // requirepass on every sentinel
  absl::Duration down_after = absl::Seconds(1);
  absl::Duration failover_timeout = absl::Seconds(3);
  // How long Start() waits for replication and for the sentinels to meet.
  absl::Duration ready_timeout = absl::Seconds(30);
};

class SentinelSet {
 public:
  explicit SentinelSet(SentinelSetOptions options = {});
  SentinelSet(const SentinelSet&) = delete;
  SentinelSet& operator=(const SentinelSet&) = delete;
  ~SentinelSet();  // Stop()

  // Starts the master, the replicas (waiting until each replica's link is up),
  // then the sentinels, and waits until every sentinel's SENTINEL MASTER shows
  // the other sentinels and all replicas (bounded by ready_timeout).
  absl::Status Start();
  // Stops the sentinels, then the data nodes (resuming paused ones first).
  void Stop();

  // Data node i; node(0) is the first master.
  RedisServer& node(size_t i) { return *nodes_[i]; }
  size_t node_count() const { return nodes_.size(); }
  SentinelProcess& sentinel(size_t i) { return *sentinels_[i]; }
  size_t sentinel_count() const { return sentinels_.size(); }

  // "redis-sentinel://127.0.0.1:P1,...,127.0.0.1:Pn/0#NAME", no passwords.
  std::string url() const;
  // url() parsed, with the data nodes' and the sentinels' passwords.
  redis::Config config() const;

  // Waits until every running sentinel names one master on a port other than
  // `old_port` and that node's ROLE says master; returns its port.
  // kDeadlineExceeded (with what the sentinels said) after `timeout`.
  absl::StatusOr<int> WaitForNewMaster(int old_port, absl::Duration timeout);
  // Waits until data node i's ROLE is `role` ("master", "slave").
  absl::Status WaitForRole(size_t i, std::string_view role, absl::Duration timeout);

  // SIGSTOP / SIGCONT to data node i: a stalled master whose sockets stay open.
  absl::Status Pause(size_t i);
  absl::Status Resume(size_t i);

 private:
  absl::Status WaitForReplication(absl::Time deadline);
  absl::Status WaitForSentinelsToMeet(absl::Time deadline);
  // The port every running sentinel names as the master now, if they agree.
  absl::StatusOr<int> AgreedMasterPort() const;

  SentinelSetOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::unique_ptr<SentinelProcess>> sentinels_;
};

// ROLE's first element on a fresh connection ("master", "slave", "sentinel"),
// or "" when the server does not answer.
std::string RoleOf(const redis::Config& cfg);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_SENTINEL_SET_H_
