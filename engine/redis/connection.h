// One blocking connection to Redis, shared by the engine (a pipeline of writes
// per tick, see pipeline.h) and the bridge (commands, and the pub/sub
// subscriber). RAII over hiredis's redisContext; replies are owned by `Reply`.
// Not thread-safe: a Connection has one owner thread at a time (it may be moved).
//
//   absl::StatusOr<Connection> conn = Connection::Open(cfg, absl::Seconds(1), absl::Seconds(2));
//   if (!conn.ok()) ...                          // kUnavailable: back off and retry
//   absl::StatusOr<Reply> r = conn->Command({"GET", key});
//   if (!conn->ok()) ...                         // I/O failed: drop it and reconnect
//
// All writes go out with MSG_NOSIGNAL, so a peer that went away yields
// kUnavailable, never SIGPIPE. (Code that writes through raw() with hiredis's
// own functions is not covered by that.)
#ifndef PHYSICS_ENGINE_REDIS_CONNECTION_H_
#define PHYSICS_ENGINE_REDIS_CONNECTION_H_

// hiredis 0.14 includes sds.h outside its C-linkage block; without this wrapper
// sds functions would be looked up with C++ names and fail to link.
extern "C" {
#include <hiredis/hiredis.h>
}

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/config.h"

namespace physics::redis {

struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
// A reply from hiredis; freeing it frees its nested elements.
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// True for a string or status reply (not for nullptr).
inline bool IsTextReply(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

// The bytes of a string or status reply, viewed in place (valid while the
// reply lives); "" for nullptr and for any other type (nil, integer, array,
// error). The one way replies are read as text.
inline std::string_view ReplyText(const redisReply* r) {
  return IsTextReply(r) ? std::string_view(r->str, r->len) : std::string_view();
}

class Connection;
// sentinel.h: Connection::Open for a redis-sentinel:// Config.
absl::StatusOr<Connection> OpenSentinelMaster(const Config& cfg, absl::Duration connect_timeout,
                                              absl::Duration io_timeout);

class Connection {
 public:
  // Connects (bounded by connect_timeout), then sends AUTH when a user or
  // password is configured, SELECT when db != 0, and PING when neither, so a
  // server that wants a password is detected here rather than on the first
  // write; with them, in the same write (one round trip), CLUSTER MYID, so a
  // redis:// URL that leads to a Redis Cluster node is refused here rather than
  // met with MOVED replies later (not asked for cfg.cluster_node). io_timeout
  // bounds every later wait for the socket (InfiniteDuration: wait forever).
  // A redis-sentinel:// Config is resolved here, at every call: the sentinels
  // name the master, ROLE confirms it (sentinel.h, which also lists the errors
  // of that step and how connect_timeout bounds the search). Such a connection
  // breaks (kUnavailable) at its next use once the sentinels announce another
  // node as the master (sentinel_watch.h).
  // Errors (one line, prefixed with cfg.Describe(), never the password):
  //   kUnavailable        unreachable, refused, timed out, reset, or Redis
  //                       still loading: back off and retry;
  //   kUnauthenticated    AUTH refused (WRONGPASS), or a password is required
  //                       (NOAUTH) or was given to a server without one;
  //   kPermissionDenied   the ACL user may not run SELECT/PING (NOPERM);
  //   kInvalidArgument    the db index is out of range for this server; the
  //                       server is a Redis Cluster node ("<endpoint> is a
  //                       Redis Cluster node: use redis-cluster://host:port");
  //                       cfg is a redis-cluster:// Config (open a Cluster,
  //                       cluster.h).
  static absl::StatusOr<Connection> Open(const Config& cfg, absl::Duration connect_timeout,
                                         absl::Duration io_timeout);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Sends one command (argv-style, binary safe) and reads its reply.
  // Error replies: the status of StatusFromErrorReply (kInternal or
  // kFailedPrecondition, kUnauthenticated/kPermissionDenied for auth and ACL)
  // with Redis's message; the connection stays usable. Except READONLY (the
  // master was demoted): kUnavailable and the connection is broken, like an
  // I/O error, so the owner reconnects (error_reply.h).
  // I/O errors and timeouts: kUnavailable, and the connection is broken
  // (ok() == false) because the reply stream is no longer in step.
  // REQUIRES: !argv.empty(); no replies are outstanding (e.g. after SUBSCRIBE).
  absl::StatusOr<Reply> Command(std::initializer_list<std::string_view> argv);
  absl::StatusOr<Reply> Command(std::span<const std::string_view> argv);

  // The next reply, waiting up to io_timeout: for pub/sub after SUBSCRIBE.
  // Error replies are returned as replies (type REDIS_REPLY_ERROR), not as a
  // status. When no complete reply arrives in time: kDeadlineExceeded, and the
  // connection stays usable (nothing was sent, so nothing is out of step; a
  // partly received reply is kept for the next call): a quiet channel is not
  // a failure. I/O errors and EOF: kUnavailable, connection broken.
  absl::StatusOr<Reply> ReadReply();
  // Like ReadReply(), but waits at most `wait` instead of io_timeout. With a
  // `wake_fd` (e.g. an eventfd), the wait also ends, with kDeadlineExceeded,
  // as soon as that descriptor is readable; the caller drains it.
  absl::StatusOr<Reply> ReadReplyWithin(absl::Duration wait, int wake_fd = -1);

  // False after any I/O error, timeout or protocol error (and when moved from).
  bool ok() const;
  // cfg.Describe() of the config this connection was opened with.
  const std::string& endpoint() const { return endpoint_; }
  absl::Duration io_timeout() const { return io_timeout_; }

  // For advanced users (e.g. a subscriber that wants hiredis's own calls).
  // Must not be used to leave unflushed output in hiredis's buffer, or replies
  // unread, before calling back into this class.
  redisContext* raw() { return ctx_.get(); }

 private:
  friend class Pipeline;
  friend absl::StatusOr<Connection> OpenSentinelMaster(const Config&, absl::Duration,
                                                       absl::Duration);

  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  // Bytes read from the socket per recv() in Exchange.
  static constexpr size_t kReadChunkBytes = 16 * 1024;

  // Whether a timeout in Exchange leaves the connection usable.
  enum class OnTimeout { kBreak, kKeep };

  Connection(ContextPtr ctx, std::string endpoint, absl::Duration io_timeout);

  absl::Status Handshake(const Config& cfg);

  // Writes all of `out` and reads `replies` complete replies through the
  // context's reader, passing each reply object to on_reply. Writes and reads
  // are interleaved on one poll() loop, so a pipeline of any size cannot
  // deadlock with Redis (which stops reading from us once its output buffer to
  // us is full). `wait` bounds each wait for progress. On I/O error, EOF,
  // protocol error or (with kBreak) timeout the connection is marked broken and
  // kUnavailable returned; a kKeep timeout returns kDeadlineExceeded.
  // Allocation-free apart from the reader's own buffer growth.
  // REQUIRES: ok(); with kKeep, `out` is empty.
  // wake_fd >= 0: also poll it, and end the wait when it is readable.
  absl::Status Exchange(std::string_view out, size_t replies,
                        absl::FunctionRef<void(void*)> on_reply, absl::Duration wait,
                        OnTimeout on_timeout, int wake_fd = -1);

  // Reads one reply with the reader's default (allocating) functions.
  absl::StatusOr<Reply> ReadOne(std::string_view out, absl::Duration wait, OnTimeout on_timeout,
                                int wake_fd = -1);

  // Records `what` in the context (so ok() turns false and hiredis refuses
  // further use) and returns it as kUnavailable.
  absl::Status MarkBroken(std::string_view what);
  // After an announced switch: OK (and up to date) when the new master is
  // master_, else MarkBroken.
  absl::Status CheckMasterSwitch();
  // MarkBroken for a READONLY reply (IsDemotedMasterError).
  absl::Status MarkDemoted(std::string_view error_text);
  absl::Status NotUsable() const;

  ContextPtr ctx_;
  std::string endpoint_;
  absl::Duration io_timeout_;
  std::string command_buffer_;  // RESP of the current Command, reused.
  // Sentinel connections only: the list whose switch count is checked before
  // each exchange, its value when the search for this master began (or at
  // the last announcement naming master_), and the master's address.
  std::shared_ptr<SentinelList> watched_;
  uint64_t switches_at_open_ = 0;
  HostPort master_;
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_CONNECTION_H_
