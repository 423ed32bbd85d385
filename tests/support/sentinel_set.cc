#include "tests/support/sentinel_set.h"

#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/net.h"
#include "tests/support/redis_reads.h"

namespace physics::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

std::string RedisServerBinary() {
  const char* env = std::getenv("REDIS_SERVER_BIN");
  return env != nullptr && *env != '\0' ? env : "redis-server";
}

std::string Str(const redisReply* r) { return std::string(r->str, r->len); }

// The value of `field` in a flat field/value array (SENTINEL MASTER), or "".
std::string PairField(const redisReply* r, std::string_view field) {
  if (r->type != REDIS_REPLY_ARRAY) return "";
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    if (r->element[i]->type == REDIS_REPLY_STRING && Str(r->element[i]) == field &&
        r->element[i + 1]->type == REDIS_REPLY_STRING) {
      return Str(r->element[i + 1]);
    }
  }
  return "";
}

std::string Tail(std::string_view text, size_t max_chars) {
  return std::string(text.size() > max_chars ? text.substr(text.size() - max_chars) : text);
}

}  // namespace

std::string RoleOf(const redis::Config& cfg) {
  absl::StatusOr<redis::Connection> conn =
      redis::Connection::Open(cfg, absl::Milliseconds(500), absl::Seconds(1));
  if (!conn.ok()) return "";
  absl::StatusOr<redis::Reply> role = conn->Command({"ROLE"});
  if (!role.ok() || (*role)->type != REDIS_REPLY_ARRAY || (*role)->elements == 0 ||
      (*role)->element[0]->type != REDIS_REPLY_STRING) {
    return "";
  }
  return Str((*role)->element[0]);
}

// --- SentinelProcess -------------------------------------------------------

SentinelProcess::SentinelProcess(SentinelProcessOptions options) : options_(std::move(options)) {}

SentinelProcess::~SentinelProcess() { Stop(); }

absl::Status SentinelProcess::Start() {
  if (process_.has_value() && process_->running()) {
    return absl::FailedPreconditionError("the sentinel is already running");
  }
  if (!dir_.has_value()) {
    absl::StatusOr<TempDir> dir = TempDir::Create("physics-sentinel-");
    if (!dir.ok()) return dir.status();
    dir_.emplace(*std::move(dir));
  }
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<int> port = PickUnusedLoopbackPort();
    if (!port.ok()) return port.status();
    port_ = *port;
    bool port_taken = false;
    absl::Status s = StartOnce(&port_taken);
    if (s.ok() || !port_taken || attempt >= 4) return s;
  }
}

absl::Status SentinelProcess::StartOnce(bool* port_taken) {
  // Sentinel rewrites its config file as it learns, so each start gets a
  // fresh one in the sentinel's own directory.
  const std::string conf = dir_->File("sentinel.conf");
  {
    const std::string& name = options_.master_name;
    std::ofstream out(conf, std::ios::trunc);
    out << "bind 127.0.0.1\n"
        << "daemonize no\n"
        << "dir " << dir_->path() << "\n"
        << "logfile sentinel.log\n"
        << "sentinel monitor " << name << " 127.0.0.1 " << options_.master_port << " "
        << options_.quorum << "\n"
        << "sentinel down-after-milliseconds " << name << " "
        << absl::ToInt64Milliseconds(options_.down_after) << "\n"
        << "sentinel failover-timeout " << name << " "
        << absl::ToInt64Milliseconds(options_.failover_timeout) << "\n";
    if (!options_.data_password.empty()) {
      out << "sentinel auth-pass " << name << " " << options_.data_password << "\n";
    }
    if (!options_.password.empty()) {
      out << "requirepass " << options_.password << "\n"
          << "sentinel sentinel-pass " << options_.password << "\n";
    }
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", conf));
  }
  ProcessOptions opts{.argv = {RedisServerBinary(), conf, "--sentinel", "--port",
                               absl::StrCat(port_)},
                      .stdout_path = dir_->File("stdout.log"),
                      .stderr_path = dir_->File("stdout.log"),
                      .append_output = true};
  absl::StatusOr<Process> process = Process::Spawn(std::move(opts));
  if (!process.ok()) return process.status();
  process_.emplace(*std::move(process));

  redis::Config cfg = config();
  cfg.password.clear();  // a NOAUTH answer proves it is up, too
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::Status last = absl::UnavailableError("not tried");
  while (absl::Now() < deadline && process_->running()) {
    absl::StatusOr<redis::Connection> conn =
        redis::Connection::Open(cfg, absl::Milliseconds(200), absl::Seconds(1));
    if (conn.ok() || absl::IsUnauthenticated(conn.status())) return absl::OkStatus();
    last = conn.status();
    absl::SleepFor(absl::Milliseconds(10));
  }
  process_->Kill();
  process_.reset();
  const std::string log = ReadLog() + ReadFileOrEmpty(dir_->File("stdout.log"));
  *port_taken = absl::StrContains(log, "Address already in use");
  return absl::UnavailableError(absl::StrCat("sentinel on port ", port_, " did not start (",
                                             last.message(), "); it said: ", Tail(log, 600)));
}

void SentinelProcess::Stop() {
  if (process_.has_value()) process_->Terminate(absl::Seconds(5));
  process_.reset();
}

redis::Config SentinelProcess::config() const {
  redis::Config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = port_;
  cfg.password = options_.password;
  return cfg;
}

absl::StatusOr<redis::Reply> SentinelProcess::Run(
    std::initializer_list<std::string_view> argv) const {
  absl::StatusOr<redis::Connection> conn =
      redis::Connection::Open(config(), absl::Seconds(1), absl::Seconds(5));
  if (!conn.ok()) return conn.status();
  return conn->Command(argv);
}

std::string SentinelProcess::ReadLog() const {
  return dir_.has_value() ? ReadFileOrEmpty(dir_->File("sentinel.log")) : std::string();
}

// --- SentinelSet -----------------------------------------------------------

SentinelSet::SentinelSet(SentinelSetOptions options) : options_(std::move(options)) {}

SentinelSet::~SentinelSet() { Stop(); }

absl::Status SentinelSet::Start() {
  const absl::Time deadline = absl::Now() + options_.ready_timeout;
  std::vector<std::string> auth_args;
  if (!options_.data_password.empty()) auth_args = {"--masterauth", options_.data_password};
  for (int i = 0; i <= options_.replicas; ++i) {
    RedisServerOptions node_options{.extra_args = auth_args, .password = options_.data_password};
    if (i > 0) {
      node_options.extra_args.insert(node_options.extra_args.end(),
                                     {"--replicaof", "127.0.0.1", absl::StrCat(node(0).port())});
    }
    nodes_.push_back(std::make_unique<RedisServer>(std::move(node_options)));
    if (absl::Status s = nodes_.back()->Start(); !s.ok()) return s;
  }
  // Sentinels learn the replicas from the master's INFO, which they ask for
  // every 10 s: every replica must be listed before the first one.
  if (absl::Status s = WaitForReplication(deadline); !s.ok()) return s;
  for (int i = 0; i < options_.sentinels; ++i) {
    sentinels_.push_back(std::make_unique<SentinelProcess>(SentinelProcessOptions{
        .master_name = options_.master_name,
        .master_port = node(0).port(),
        .quorum = 2,
        .down_after = options_.down_after,
        .failover_timeout = options_.failover_timeout,
        .data_password = options_.data_password,
        .password = options_.sentinel_password}));
    if (absl::Status s = sentinels_.back()->Start(); !s.ok()) return s;
  }
  return WaitForSentinelsToMeet(deadline);
}

absl::Status SentinelSet::WaitForReplication(absl::Time deadline) {
  std::string last;
  while (absl::Now() < deadline) {
    const std::string info = node(0).String({"INFO", "replication"});
    bool all_up = InfoField(info, "connected_slaves") == absl::StrCat(options_.replicas);
    for (size_t i = 1; all_up && i < nodes_.size(); ++i) {
      last = node(i).String({"INFO", "replication"});
      all_up = InfoField(last, "master_link_status") == "up";
    }
    if (all_up) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("replicas did not connect to the master in time; a replica says: ", last));
}

absl::Status SentinelSet::WaitForSentinelsToMeet(absl::Time deadline) {
  const std::string others = absl::StrCat(options_.sentinels - 1);
  const std::string replicas = absl::StrCat(options_.replicas);
  std::string last;
  while (absl::Now() < deadline) {
    bool all_ready = true;
    for (const auto& sentinel : sentinels_) {
      absl::StatusOr<redis::Reply> r = sentinel->Run({"SENTINEL", "MASTER", options_.master_name});
      const std::string seen_others = r.ok() ? PairField(r->get(), "num-other-sentinels") : "";
      const std::string seen_replicas = r.ok() ? PairField(r->get(), "num-slaves") : "";
      if (seen_others != others || seen_replicas != replicas) {
        all_ready = false;
        last = absl::StrCat("sentinel on port ", sentinel->port(), " sees ", seen_others,
                            " other sentinels and ", seen_replicas, " replicas");
        break;
      }
    }
    if (all_ready) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("the sentinels did not meet in time: ", last));
}

void SentinelSet::Stop() {
  for (auto& sentinel : sentinels_) sentinel->Stop();
  for (auto& node : nodes_) node->Stop();
}

std::string SentinelSet::url() const {
  std::vector<std::string> addresses;
  for (const auto& sentinel : sentinels_) {
    addresses.push_back(absl::StrCat("127.0.0.1:", sentinel->port()));
  }
  return absl::StrCat("redis-sentinel://", absl::StrJoin(addresses, ","), "/0#",
                      options_.master_name);
}

redis::Config SentinelSet::config() const {
  absl::StatusOr<redis::Config> cfg = redis::ParseRedisUrl(url());
  if (!cfg.ok()) return redis::Config();  // not reached: url() is well formed
  cfg->password = options_.data_password;
  cfg->sentinel_password = options_.sentinel_password;
  return *std::move(cfg);
}

absl::StatusOr<int> SentinelSet::AgreedMasterPort() const {
  int agreed = 0;
  for (const auto& sentinel : sentinels_) {
    absl::StatusOr<redis::Reply> r =
        sentinel->Run({"SENTINEL", "get-master-addr-by-name", options_.master_name});
    if (!r.ok()) continue;  // a sentinel that is down has no say
    int port = 0;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2 ||
        !absl::SimpleAtoi(Str((*r)->element[1]), &port)) {
      return absl::UnavailableError(absl::StrCat("sentinel on port ", sentinel->port(),
                                                 " names no master"));
    }
    if (agreed != 0 && port != agreed) {
      return absl::UnavailableError(absl::StrCat("the sentinels disagree: ", agreed, " and ", port));
    }
    agreed = port;
  }
  if (agreed == 0) return absl::UnavailableError("no sentinel answers");
  return agreed;
}

absl::StatusOr<int> SentinelSet::WaitForNewMaster(int old_port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "not asked";
  while (absl::Now() < deadline) {
    absl::StatusOr<int> port = AgreedMasterPort();
    if (!port.ok()) {
      last = std::string(port.status().message());
    } else if (*port == old_port) {
      last = absl::StrCat("the sentinels still name port ", old_port);
    } else {
      redis::Config cfg;
      cfg.port = *port;
      cfg.password = options_.data_password;
      const std::string role = RoleOf(cfg);
      if (role == "master") return *port;
      last = absl::StrCat("the sentinels name port ", *port, ", whose ROLE is \"", role, "\"");
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("no new master within ",
                                                  absl::FormatDuration(timeout), ": ", last));
}

absl::Status SentinelSet::WaitForRole(size_t i, std::string_view role, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string seen;
  while (absl::Now() < deadline) {
    seen = RoleOf(node(i).config());
    if (seen == role) return absl::OkStatus();
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(absl::StrCat("node on port ", node(i).port(), " has ROLE \"",
                                                  seen, "\", not \"", std::string(role), "\", after ",
                                                  absl::FormatDuration(timeout)));
}

absl::Status SentinelSet::Pause(size_t i) { return node(i).Pause(); }

absl::Status SentinelSet::Resume(size_t i) { return node(i).Resume(); }

}  // namespace physics::testing
