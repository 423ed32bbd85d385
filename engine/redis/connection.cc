#include "engine/redis/connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/redis/error_reply.h"
#include "engine/redis/internal/string_view.h"
#include "engine/redis/resp.h"
#include "engine/redis/sentinel.h"

namespace physics::redis {
namespace {

// poll() timeout in ms for `d`: -1 waits forever; rounds up so that a 1 us
// timeout still waits rather than spinning.
int PollTimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  if (d <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))), INT_MAX));
}

bool IsServerBusy(absl::string_view error_text) {
  const absl::string_view prefix = error_text.substr(0, error_text.find(' '));
  return prefix == "LOADING" || prefix == "BUSY" || prefix == "MASTERDOWN" ||
         prefix == "TRYAGAIN";
}

}  // namespace

void ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

void Connection::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

Connection::Connection(ContextPtr ctx, std::string endpoint, absl::Duration io_timeout)
    : ctx_(std::move(ctx)), endpoint_(std::move(endpoint)), io_timeout_(io_timeout) {}

Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

absl::StatusOr<Connection> Connection::Open(const Config& cfg, absl::Duration connect_timeout,
                                            absl::Duration io_timeout) {
  if (cfg.uses_sentinels()) return OpenSentinelMaster(cfg, connect_timeout, io_timeout);
  if (cfg.uses_cluster()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cfg.Describe(), ": a redis-cluster:// URL needs a cluster client"));
  }
  const std::string endpoint = cfg.Describe();
  redisContext* raw = nullptr;
  if (connect_timeout == absl::InfiniteDuration()) {
    raw = cfg.unix_path.empty() ? redisConnect(cfg.host.c_str(), cfg.port)
                                : redisConnectUnix(cfg.unix_path.c_str());
  } else {
    // hiredis treats a zero timeout as "fail at once"; 1 ms is the least we ask for.
    const timeval tv = absl::ToTimeval(std::max(connect_timeout, absl::Milliseconds(1)));
    raw = cfg.unix_path.empty() ? redisConnectWithTimeout(cfg.host.c_str(), cfg.port, tv)
                                : redisConnectUnixWithTimeout(cfg.unix_path.c_str(), tv);
  }
  if (raw == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Redis ", endpoint, ": cannot allocate a hiredis context"));
  }
  ContextPtr ctx(raw);
  if (ctx->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("Redis ", endpoint, ": cannot connect: ", ctx->errstr));
  }
  // Our own I/O waits with poll(); the socket timeouts only bound raw() users.
  const timeval io_tv = io_timeout == absl::InfiniteDuration()
                            ? timeval{0, 0}
                            : absl::ToTimeval(std::max(io_timeout, absl::Milliseconds(1)));
  if (redisSetTimeout(ctx.get(), io_tv) != REDIS_OK ||
      (cfg.unix_path.empty() && redisEnableKeepAlive(ctx.get()) != REDIS_OK)) {
    return absl::UnavailableError(
        absl::StrCat("Redis ", endpoint, ": cannot set socket options: ", ctx->errstr));
  }
  Connection conn(std::move(ctx), endpoint, io_timeout);
  if (absl::Status s = conn.Handshake(cfg); !s.ok()) return s;
  return conn;
}

absl::Status Connection::Handshake(const Config& cfg) {
  // Maps a failed handshake step to the code the caller should act on.
  auto fail = [this](absl::string_view step, const absl::Status& s,
                     absl::StatusCode refused) -> absl::Status {
    const absl::string_view text = internal::ToAbsl(ErrorReplyText(s));
    absl::StatusCode code = s.code();
    if (IsServerBusy(text)) {
      code = absl::StatusCode::kUnavailable;
    } else if (code != absl::StatusCode::kUnauthenticated &&
               code != absl::StatusCode::kPermissionDenied) {
      code = refused;
    }
    return absl::Status(code, absl::StrCat("Redis ", endpoint_, ": ", step, " failed: ", text));
  };

  // One write, one round trip: [AUTH] [SELECT db | PING] CLUSTER MYID. The
  // last tells a cluster node (an id) from a standalone server ("cluster
  // support disabled"); a user not allowed to ask (NOPERM) is let through.
  struct Step {
    std::string name;
    absl::StatusCode refused;
  };
  std::vector<Step> steps;
  command_buffer_.clear();
  if (!cfg.password.empty() || !cfg.user.empty()) {
    // Any refusal of AUTH ("ERR AUTH <password> called without any password
    // configured", an old server without ACL users) is a credentials problem.
    steps.push_back({"AUTH", absl::StatusCode::kUnauthenticated});
    if (cfg.user.empty()) {
      AppendResp(command_buffer_, {"AUTH", cfg.password});
    } else {
      AppendResp(command_buffer_, {"AUTH", cfg.user, cfg.password});
    }
  }
  const std::string db = absl::StrCat(cfg.db);
  if (cfg.db != 0) {
    steps.push_back({absl::StrCat("SELECT ", cfg.db), absl::StatusCode::kInvalidArgument});
    AppendResp(command_buffer_, {"SELECT", db});
  } else if (steps.empty()) {
    steps.push_back({"PING", absl::StatusCode::kUnavailable});
    AppendResp(command_buffer_, {"PING"});
  }
  // A Config from Cluster::NodeConfig expects a cluster node: no question.
  const bool probe = !cfg.cluster_node;
  if (probe) AppendResp(command_buffer_, {"CLUSTER", "MYID"});

  std::vector<Reply> replies;
  replies.reserve(steps.size() + 1);
  if (absl::Status io = Exchange(
          command_buffer_, steps.size() + (probe ? 1 : 0),
          [&replies](void* r) { replies.emplace_back(static_cast<redisReply*>(r)); },
          io_timeout_, OnTimeout::kBreak);
      !io.ok()) {
    return io;
  }
  // An id: a cluster node. An error: a standalone server ("cluster support
  // disabled"), or NOPERM, or NOAUTH after a refused AUTH.
  const bool cluster_node = cfg.cluster_node || replies.back()->type != REDIS_REPLY_ERROR;
  for (size_t i = 0; i < steps.size(); ++i) {
    const redisReply* r = replies[i].get();
    if (r->type != REDIS_REPLY_ERROR) continue;
    const std::string_view text(r->str, r->len);
    // "ERR SELECT is not allowed in cluster mode": said below, in one line.
    if (cluster_node && absl::StrContains(internal::ToAbsl(text), "not allowed in cluster mode")) {
      continue;
    }
    return fail(steps[i].name, StatusFromErrorReply(text), steps[i].refused);
  }
  if (cluster_node && !cfg.cluster_node) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Redis ", endpoint_, " is a Redis Cluster node: use redis-cluster://",
        cfg.unix_path.empty() ? HostPort{cfg.host, cfg.port}.ToString() : "host:port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> Connection::Command(std::initializer_list<std::string_view> argv) {
  return Command(std::span<const std::string_view>(argv.begin(), argv.size()));
}

absl::StatusOr<Reply> Connection::Command(std::span<const std::string_view> argv) {
  if (argv.empty()) return absl::InvalidArgumentError("empty Redis command");
  if (!ok()) return NotUsable();
  command_buffer_.clear();
  AppendResp(command_buffer_, argv);
  absl::StatusOr<Reply> reply = ReadOne(command_buffer_, io_timeout_, OnTimeout::kBreak);
  if (reply.ok() && (*reply)->type == REDIS_REPLY_ERROR) {
    const std::string_view text((*reply)->str, (*reply)->len);
    if (IsDemotedMasterError(text)) return MarkDemoted(text);
    return StatusFromErrorReply(text);
  }
  return reply;
}

absl::StatusOr<Reply> Connection::ReadReply() {
  if (!ok()) return NotUsable();
  return ReadOne({}, io_timeout_, OnTimeout::kKeep);
}

absl::StatusOr<Reply> Connection::ReadReplyWithin(absl::Duration wait, int wake_fd) {
  if (!ok()) return NotUsable();
  return ReadOne({}, wait, OnTimeout::kKeep, wake_fd);
}

bool Connection::ok() const { return ctx_ != nullptr && ctx_->err == 0; }

absl::StatusOr<Reply> Connection::ReadOne(std::string_view out, absl::Duration wait,
                                          OnTimeout on_timeout, int wake_fd) {
  void* reply = nullptr;
  absl::Status s = Exchange(
      out, 1, [&reply](void* r) { reply = r; }, wait, on_timeout, wake_fd);
  if (!s.ok()) return s;
  return Reply(static_cast<redisReply*>(reply));
}

absl::Status Connection::Exchange(std::string_view out, size_t replies,
                                  absl::FunctionRef<void(void*)> on_reply, absl::Duration wait,
                                  OnTimeout on_timeout, int wake_fd) {
  if (watched_ != nullptr && watched_->switches() != switches_at_open_) {
    if (absl::Status s = CheckMasterSwitch(); !s.ok()) return s;
  }
  redisContext* c = ctx_.get();
  const int wait_ms = PollTimeoutMs(wait);
  size_t sent = 0;
  size_t received = 0;
  // The socket is almost always writable: send before the first poll, which
  // saves a syscall per round trip (poll, send, poll, recv -> send, poll, recv).
  if (!out.empty()) {
    const ssize_t n = send(c->fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent = static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return MarkBroken(absl::StrCat("write: ", std::strerror(errno)));
    }
  }
  for (;;) {
    while (received < replies) {
      void* reply = nullptr;
      if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
        return MarkBroken(absl::StrCat("protocol error: ", c->reader->errstr));
      }
      if (reply == nullptr) break;
      on_reply(reply);
      ++received;
    }
    if (received == replies && sent == out.size()) return absl::OkStatus();

    pollfd fds[2] = {{c->fd, static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0},
                     {wake_fd, POLLIN, 0}};
    const int ready = poll(fds, wake_fd >= 0 ? 2 : 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return MarkBroken(absl::StrCat("poll: ", std::strerror(errno)));
    }
    const pollfd& pfd = fds[0];
    if (ready == 0) {
      if (on_timeout == OnTimeout::kKeep && sent == out.size()) {
        // Cheap on purpose: a pub/sub reader meets this after every burst.
        if (wait_ms == 0) return absl::DeadlineExceededError("no reply waiting");
        return absl::DeadlineExceededError(
            absl::StrCat("Redis ", endpoint_, ": no reply within ", absl::FormatDuration(wait)));
      }
      return MarkBroken(absl::StrCat("timed out after ", absl::FormatDuration(wait), " (sent ",
                                     sent, " of ", out.size(), " bytes, got ", received, " of ",
                                     replies, " replies)"));
    }
    // Only the wake fd is ready (only ReadReplyWithin passes one: nothing to
    // send, and a timeout keeps the connection).
    if (pfd.revents == 0) return absl::DeadlineExceededError("woken");
    if (pfd.revents & POLLNVAL) return MarkBroken("socket is not open");
    if (pfd.revents & POLLOUT) {
      const ssize_t n =
          send(c->fd, out.data() + sent, out.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return MarkBroken(absl::StrCat("write: ", std::strerror(errno)));
      }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[kReadChunkBytes];
      const ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return MarkBroken("connection closed by server");
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return MarkBroken(absl::StrCat("read: ", std::strerror(errno)));
      }
      if (n > 0 && redisReaderFeed(c->reader, buf, static_cast<size_t>(n)) != REDIS_OK) {
        return MarkBroken(absl::StrCat("protocol error: ", c->reader->errstr));
      }
    }
  }
}

absl::Status Connection::MarkBroken(std::string_view what) {
  if (ctx_->err == 0) {
    ctx_->err = REDIS_ERR_IO;
    const size_t n = std::min(what.size(), sizeof(ctx_->errstr) - 1);
    std::memcpy(ctx_->errstr, what.data(), n);
    ctx_->errstr[n] = '\0';
  }
  return absl::UnavailableError(absl::StrCat("Redis ", endpoint_, ": ", internal::ToAbsl(what)));
}

absl::Status Connection::CheckMasterSwitch() {
  const SentinelList::Switch last = watched_->LastSwitch();
  // Found by asking just before the announcement: this is the new master.
  if (last.master == master_) {
    switches_at_open_ = last.count;
    return absl::OkStatus();
  }
  return MarkBroken(absl::StrCat("the sentinels announced a new master, ", last.master.ToString()));
}

absl::Status Connection::MarkDemoted(std::string_view error_text) {
  return MarkBroken(absl::StrCat("no longer the master (", internal::ToAbsl(error_text), ")"));
}

absl::Status Connection::NotUsable() const {
  if (ctx_ == nullptr) return absl::UnavailableError("Redis connection is closed (moved from)");
  return absl::UnavailableError(
      absl::StrCat("Redis ", endpoint_, ": connection is broken: ", ctx_->errstr));
}

}  // namespace physics::redis
