// A real redis-server for integration tests: started on a free loopback port
// (never 6379) in its own temp dir with persistence off (or, `durable`, an AOF
// fsynced on every write), killed and restarted on the same port to simulate
// outages, stopped (SIGTERM, reaped) by the destructor.
// Not thread-safe: one test thread drives it; Kill() may be called from a helper
// thread while the owner is blocked elsewhere (e.g. in a pipeline to it).
//
//   RedisServer server({.password = "secret"});
//   ASSERT_TRUE(server.Start().ok());
//   absl::StatusOr<redis::Connection> conn = server.Connect();   // with the password
//   server.Kill();                 // outage
//   ASSERT_TRUE(server.Start().ok());   // back, same port
#ifndef PHYSICS_TESTS_SUPPORT_REDIS_SERVER_H_
#define PHYSICS_TESTS_SUPPORT_REDIS_SERVER_H_

#include <initializer_list>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace physics::testing {

struct RedisServerOptions {
  // Appended to the command line, e.g. ACL users:
  //   {"--user", "alice", "on", ">pw", "~*", "&*", "+@all"}.
  std::vector<std::string> extra_args = {};
  // Non-empty: --requirepass; config() and Connect() then carry it.
  std::string password = {};
  // Also listen on <dir>/redis.sock (see unix_config()).
  bool unix_socket = false;
  // The program; empty: $REDIS_SERVER_BIN, else "redis-server" from PATH.
  std::string binary = {};
  // How long Start() waits for the server to answer PING.
  absl::Duration startup_timeout = absl::Seconds(10);
  // AOF with appendfsync always in the server's dir (kept across restarts),
  // so every acknowledged write survives Kill() and the next Start().
  bool durable = false;
  // A Redis Cluster node: --cluster-enabled yes with nodes.conf in its dir
  // (kept across restarts, so a restarted node rejoins as itself), on a port
  // whose bus port (port + 10000) is free too. config() then has
  // cluster_node set, so Connect() and Run() talk to it directly.
  bool cluster_enabled = false;
};

class RedisServer {
 public:
  // Does not start the server; call Start().
  explicit RedisServer(RedisServerOptions options = {});
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();  // Stop()

  // Starts the server and waits until it answers PING (a NOAUTH answer counts).
  // The first Start() picks a port (and retries with another one if the port was
  // taken meanwhile); later calls reuse it, e.g. after Kill(). Data survives a
  // restart only with options.durable. Errors carry the tail of the server's log.
  // REQUIRES: !running().
  absl::Status Start();
  // Stop() then Start() on the same port.
  absl::Status Restart();
  // SIGKILL and reap: an abrupt outage (clients see resets or EOF).
  void Kill();
  // SIGTERM, wait (SIGKILL after 5 s), reap; a paused server is resumed
  // first. No-op when not running.
  void Stop();
  bool running();
  // SIGSTOP / SIGCONT: a stalled server whose sockets stay open.
  // kFailedPrecondition when not running.
  absl::Status Pause();
  absl::Status Resume();
  bool paused() const { return paused_; }

  int port() const { return port_; }  // 0 before the first Start()
  // "redis://127.0.0.1:PORT/0", without the password.
  std::string url() const;
  // "<dir>/redis.sock"; meaningful when options.unix_socket.
  std::string unix_socket_path() const;
  // The server's working dir (its log is "<dir>/redis.log").
  const std::string& dir() const;
  std::string ReadLog() const;

  // host/port and the password, if any.
  redis::Config config() const;
  // The unix socket and the password, if any.
  redis::Config unix_config() const;
  // A connection with config() and short timeouts (1 s connect, 5 s I/O).
  absl::StatusOr<redis::Connection> Connect() const;
  // One command on a fresh connection: for set-up and checks in tests.
  absl::StatusOr<redis::Reply> Run(std::initializer_list<std::string_view> argv) const;
  // Checks made short: the text of the string or status reply of `argv`
  // ("" for nil, errors and other types), and its integer reply (kNoInteger
  // when it is not one).
  static constexpr int64_t kNoInteger = INT64_MIN;
  std::string String(std::initializer_list<std::string_view> argv) const;
  int64_t Integer(std::initializer_list<std::string_view> argv) const;

 private:
  absl::Status StartOnce(bool* port_taken);
  absl::Status WaitUntilReady();
  std::vector<std::string> CommandLine() const;

  RedisServerOptions options_;
  std::optional<TempDir> dir_;
  int port_ = 0;
  std::optional<Process> process_;
  bool paused_ = false;
};

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_REDIS_SERVER_H_
