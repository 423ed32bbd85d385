// Maps a Redis error reply ("WRONGTYPE Operation against a key ...") to an
// absl::Status whose code tells the caller what to do: kUnauthenticated /
// kPermissionDenied for auth and ACL refusals, kFailedPrecondition for errors
// caused by server or key state, kInternal for everything else.
// Thread-safety: pure function.
#ifndef PHYSICS_ENGINE_REDIS_ERROR_REPLY_H_
#define PHYSICS_ENGINE_REDIS_ERROR_REPLY_H_

#include <string_view>

#include "absl/status/status.h"

namespace physics::redis {

// The message is "Redis error: " followed by Redis's own one-line text.
//   NOAUTH, WRONGPASS                          -> kUnauthenticated
//   NOPERM                                     -> kPermissionDenied
//   WRONGTYPE, READONLY, LOADING, BUSY, OOM, MISCONF, NOSCRIPT, EXECABORT,
//   MASTERDOWN, NOREPLICAS, TRYAGAIN, CLUSTERDOWN, MOVED, ASK
//                                              -> kFailedPrecondition
//   anything else ("ERR ...")                  -> kInternal
absl::Status StatusFromErrorReply(std::string_view text);

// Redis's own text of an error reply turned into `s` by StatusFromErrorReply
// (the message without "Redis error: "); another status's message as is.
std::string_view ErrorReplyText(const absl::Status& s);

// True for READONLY ("You can't write against a read only replica"): the
// server we took for the master has been demoted (a failover), so the
// connection leads nowhere useful. Connection::Command and Pipeline::Execute
// then break the connection and return kUnavailable, so that every owner's
// reconnect path runs (and a redis-sentinel:// Config finds the new master).
bool IsDemotedMasterError(std::string_view text);

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_ERROR_REPLY_H_
