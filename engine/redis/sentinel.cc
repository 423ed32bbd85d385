#include "engine/redis/sentinel.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

bool IsAuthError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnauthenticated ||
         s.code() == absl::StatusCode::kPermissionDenied;
}


bool IsString(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

// A Connection error without its "Redis <endpoint>: " prefix, for a summary
// that already names the endpoint.
std::string Reason(const absl::Status& s, const Config& endpoint) {
  return std::string(absl::StripPrefix(s.message(), absl::StrCat("Redis ", endpoint.Describe(), ": ")));
}

// One Open: rounds over the sentinels until a master is found or time is up.
class MasterFinder {
 public:
  MasterFinder(const Config& cfg, absl::Duration connect_timeout, absl::Duration io_timeout)
      : cfg_(cfg), connect_timeout_(connect_timeout), io_timeout_(io_timeout) {}

  // The master's address, after Run() succeeded.
  const HostPort& found() const { return found_; }

  absl::StatusOr<Connection> Run() {
    const absl::Time deadline = absl::Now() + connect_timeout_;
    int rounds = 0;
    std::vector<std::string> answers;  // what each sentinel said in the last round
    for (;;) {
      ++rounds;
      answers.clear();
      size_t auth_refusals = 0;
      bool answered = false;  // the first sentinel to answer in a round goes first
      for (const HostPort& sentinel : cfg_.sentinels->InOrder()) {
        absl::StatusOr<HostPort> master = AskSentinel(sentinel);
        if (!master.ok()) {
          if (IsAuthError(master.status())) ++auth_refusals;
          answers.push_back(absl::StrCat(sentinel.ToString(), ": ", master.status().message()));
          continue;
        }
        if (!answered) cfg_.sentinels->Prefer(sentinel);
        answered = true;
        absl::StatusOr<Connection> conn = ConnectToMaster(*master);
        if (conn.ok()) {
          found_ = *master;
          return conn;
        }
        // The sentinel vouched for this node: wrong credentials or a db index
        // it does not have are ours, and no other answer will fix them.
        if (IsAuthError(conn.status()) || absl::IsInvalidArgument(conn.status())) {
          return conn.status();
        }
        answers.push_back(absl::StrCat(sentinel.ToString(), ": names master ", master->ToString(),
                                       " (", conn.status().message(), ")"));
      }
      if (auth_refusals == answers.size()) {
        return absl::UnauthenticatedError(absl::StrCat("Redis ", cfg_.Describe(),
                                                       ": every sentinel refused us: ",
                                                       absl::StrJoin(answers, "; ")));
      }
      if (absl::Now() + kSentinelRetryPause >= deadline) break;
      absl::SleepFor(kSentinelRetryPause);
    }
    return absl::UnavailableError(absl::StrCat("Redis ", cfg_.Describe(), ": no master after ",
                                               rounds, rounds == 1 ? " round" : " rounds",
                                               " of asking the sentinels; last round: ",
                                               absl::StrJoin(answers, "; ")));
  }

 private:
  // SENTINEL get-master-addr-by-name on one sentinel. Errors are short texts
  // for the summary (the sentinel's address is added by the caller).
  absl::StatusOr<HostPort> AskSentinel(const HostPort& sentinel) const {
    Config sentinel_cfg;
    sentinel_cfg.host = sentinel.host;
    sentinel_cfg.port = sentinel.port;
    sentinel_cfg.password = cfg_.sentinel_password;
    const absl::Duration timeout = std::min(kSentinelTimeout, connect_timeout_);
    absl::StatusOr<Connection> conn = Connection::Open(sentinel_cfg, timeout, timeout);
    if (!conn.ok()) return absl::Status(conn.status().code(), Reason(conn.status(), sentinel_cfg));
    absl::StatusOr<Reply> reply =
        conn->Command({"SENTINEL", "get-master-addr-by-name", cfg_.master_name});
    if (!reply.ok()) return absl::Status(reply.status().code(), Reason(reply.status(), sentinel_cfg));
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_NIL) {
      return absl::NotFoundError(absl::StrCat("knows no master named \"", cfg_.master_name, "\""));
    }
    int port = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !IsString(r->element[0]) ||
        !IsString(r->element[1]) ||
        !absl::SimpleAtoi(internal::ToAbsl(ReplyText(r->element[1])), &port)) {
      return absl::InternalError("unexpected reply to SENTINEL get-master-addr-by-name");
    }
    return HostPort{std::string(ReplyText(r->element[0])), port};
  }

  // Connects to the address a sentinel gave and checks that it is a master:
  // during a failover a sentinel may still name the old one.
  absl::StatusOr<Connection> ConnectToMaster(const HostPort& master) const {
    Config data_cfg = cfg_;
    data_cfg.sentinels.reset();
    data_cfg.host = master.host;
    data_cfg.port = master.port;
    data_cfg.unix_path.clear();
    absl::StatusOr<Connection> conn = Connection::Open(data_cfg, connect_timeout_, io_timeout_);
    if (!conn.ok()) {
      // A final error keeps its endpoint; the others go into the summary.
      if (IsAuthError(conn.status()) || absl::IsInvalidArgument(conn.status())) {
        return conn.status();
      }
      return absl::Status(conn.status().code(), Reason(conn.status(), data_cfg));
    }
    absl::StatusOr<Reply> role = conn->Command({"ROLE"});
    if (!role.ok()) {
      if (IsAuthError(role.status())) {
        return absl::Status(role.status().code(),
                            absl::StrCat("Redis ", data_cfg.Describe(),
                                         ": ROLE refused (the user needs +role to follow a "
                                         "sentinel-managed master): ",
                                         role.status().message()));
      }
      return absl::Status(role.status().code(), Reason(role.status(), data_cfg));
    }
    const redisReply* r = role->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !IsString(r->element[0])) {
      return absl::InternalError("answered ROLE with something unexpected");
    }
    if (ReplyText(r->element[0]) != "master") {
      return absl::FailedPreconditionError(
          absl::StrCat("says ROLE ", internal::ToAbsl(ReplyText(r->element[0])), ", not master"));
    }
    return conn;
  }

  const Config& cfg_;
  const absl::Duration connect_timeout_;
  const absl::Duration io_timeout_;
  HostPort found_;
};

}  // namespace

absl::StatusOr<Connection> OpenSentinelMaster(const Config& cfg, absl::Duration connect_timeout,
                                              absl::Duration io_timeout) {
  cfg.sentinels->StartWatching(cfg.master_name, cfg.sentinel_password);
  // Read first: a switch announced during the search makes the connection
  // check the announced address at its first use, never miss it.
  const uint64_t switches = cfg.sentinels->switches();
  MasterFinder finder(cfg, connect_timeout, io_timeout);
  absl::StatusOr<Connection> conn = finder.Run();
  if (conn.ok()) {
    conn->watched_ = cfg.sentinels;
    conn->switches_at_open_ = switches;
    conn->master_ = finder.found();
  }
  return conn;
}

}  // namespace physics::redis
