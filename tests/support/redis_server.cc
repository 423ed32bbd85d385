#include "tests/support/redis_server.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/net.h"

namespace physics::testing {
namespace {

constexpr int kClusterBusPortOffset = 10000;

std::string Tail(std::string_view text, size_t max_chars) {
  return std::string(text.size() > max_chars ? text.substr(text.size() - max_chars) : text);
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  if (options_.binary.empty()) {
    const char* env = std::getenv("REDIS_SERVER_BIN");
    options_.binary = env != nullptr && *env != '\0' ? env : "redis-server";
  }
}

RedisServer::~RedisServer() { Stop(); }

absl::Status RedisServer::Start() {
  if (running()) return absl::FailedPreconditionError("redis-server is already running");
  if (!dir_.has_value()) {
    absl::StatusOr<TempDir> dir = TempDir::Create("physics-redis-");
    if (!dir.ok()) return dir.status();
    dir_.emplace(*std::move(dir));
  }
  const bool first_start = port_ == 0;
  for (int attempt = 0;; ++attempt) {
    if (port_ == 0) {
      absl::StatusOr<int> port = options_.cluster_enabled
                                     ? PickUnusedLoopbackPortPair(kClusterBusPortOffset)
                                     : PickUnusedLoopbackPort();
      if (!port.ok()) return port.status();
      port_ = *port;
    }
    bool port_taken = false;
    absl::Status s = StartOnce(&port_taken);
    // Another process may grab the picked port before redis binds it; only the
    // first start may move to a new port, restarts must keep theirs.
    if (s.ok() || !port_taken || !first_start || attempt >= 4) return s;
    port_ = 0;
  }
}

std::vector<std::string> RedisServer::CommandLine() const {
  std::vector<std::string> args = {
      options_.binary,  "--port", absl::StrCat(port_), "--bind", "127.0.0.1",
      "--save",         "",       "--appendonly",      "no",     "--dir",
      dir_->path(),     "--logfile", "redis.log",      "--daemonize", "no",
      // Lets tests simulate a stalled server with DEBUG SLEEP.
      "--enable-debug-command", "local"};
  if (options_.durable) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  }
  if (!options_.password.empty()) {
    args.insert(args.end(), {"--requirepass", options_.password});
  }
  if (options_.cluster_enabled) {
    args.insert(args.end(),
                {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"});
  }
  if (options_.unix_socket) {
    args.insert(args.end(), {"--unixsocket", unix_socket_path(), "--unixsocketperm", "700"});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

absl::Status RedisServer::StartOnce(bool* port_taken) {
  const size_t log_offset = ReadLog().size();
  ProcessOptions opts{.argv = CommandLine(),
                      .stdout_path = dir_->File("stdout.log"),
                      .stderr_path = dir_->File("stdout.log"),
                      .append_output = true};
  absl::StatusOr<Process> process = Process::Spawn(std::move(opts));
  if (!process.ok()) return process.status();
  process_.emplace(*std::move(process));

  absl::Status ready = WaitUntilReady();
  if (ready.ok()) return ready;
  process_->Kill();
  process_.reset();
  std::string log = ReadLog();
  log = log.substr(std::min(log_offset, log.size())) + ReadFileOrEmpty(dir_->File("stdout.log"));
  *port_taken = absl::StrContains(log, "Address already in use");
  return absl::Status(ready.code(), absl::StrCat(ready.message(), "; redis-server on port ", port_,
                                                 " said: ", Tail(log, 600)));
}

absl::Status RedisServer::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + options_.startup_timeout;
  redis::Config cfg = config();
  cfg.password.clear();  // a NOAUTH answer proves the server is up, too
  absl::Status last = absl::UnavailableError("not tried");
  while (absl::Now() < deadline) {
    if (!process_->running()) {
      return absl::UnavailableError(absl::StrCat("redis-server exited at start-up (",
                                                 process_->Kill().ToString(), ")"));
    }
    absl::StatusOr<redis::Connection> conn =
        redis::Connection::Open(cfg, absl::Milliseconds(200), absl::Seconds(1));
    if (conn.ok() || absl::IsUnauthenticated(conn.status())) return absl::OkStatus();
    last = conn.status();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat("redis-server did not answer PING within ",
                                                  absl::FormatDuration(options_.startup_timeout),
                                                  ": ", last.message()));
}

absl::Status RedisServer::Restart() {
  Stop();
  return Start();
}

void RedisServer::Kill() {
  if (process_.has_value()) process_->Kill();
  process_.reset();
  paused_ = false;
}

void RedisServer::Stop() {
  if (paused_) Resume().IgnoreError();  // a stopped process ignores SIGTERM until then
  if (process_.has_value()) process_->Terminate(absl::Seconds(5));
  process_.reset();
}

absl::Status RedisServer::Pause() {
  if (!process_.has_value()) return absl::FailedPreconditionError("redis-server is not running");
  if (absl::Status s = process_->Signal(SIGSTOP); !s.ok()) return s;
  paused_ = true;
  return absl::OkStatus();
}

absl::Status RedisServer::Resume() {
  if (!process_.has_value()) return absl::FailedPreconditionError("redis-server is not running");
  if (absl::Status s = process_->Signal(SIGCONT); !s.ok()) return s;
  paused_ = false;
  return absl::OkStatus();
}

bool RedisServer::running() { return process_.has_value() && process_->running(); }

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_, "/0"); }

std::string RedisServer::unix_socket_path() const {
  return dir_.has_value() ? dir_->File("redis.sock") : std::string();
}

const std::string& RedisServer::dir() const {
  static const std::string kNone;
  return dir_.has_value() ? dir_->path() : kNone;
}

std::string RedisServer::ReadLog() const {
  return dir_.has_value() ? ReadFileOrEmpty(dir_->File("redis.log")) : std::string();
}

redis::Config RedisServer::config() const {
  redis::Config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = port_;
  cfg.password = options_.password;
  cfg.cluster_node = options_.cluster_enabled;
  return cfg;
}

redis::Config RedisServer::unix_config() const {
  redis::Config cfg = config();
  cfg.unix_path = unix_socket_path();
  return cfg;
}

absl::StatusOr<redis::Connection> RedisServer::Connect() const {
  return redis::Connection::Open(config(), absl::Seconds(1), absl::Seconds(5));
}

absl::StatusOr<redis::Reply> RedisServer::Run(std::initializer_list<std::string_view> argv) const {
  absl::StatusOr<redis::Connection> conn = Connect();
  if (!conn.ok()) return conn.status();
  return conn->Command(argv);
}

std::string RedisServer::String(std::initializer_list<std::string_view> argv) const {
  absl::StatusOr<redis::Reply> r = Run(argv);
  return r.ok() ? std::string(redis::ReplyText(r->get())) : "";
}

int64_t RedisServer::Integer(std::initializer_list<std::string_view> argv) const {
  absl::StatusOr<redis::Reply> r = Run(argv);
  return r.ok() && (*r)->type == REDIS_REPLY_INTEGER ? (*r)->integer : kNoInteger;
}

}  // namespace physics::testing
