// Finds and connects to the current master of a redis-sentinel:// Config, the
// way Redis's guide for sentinel clients describes: ask each sentinel in turn
// (short timeouts) for the master's address, connect there, and accept it
// only if ROLE says "master". Connection::Open calls this for every
// redis-sentinel:// Config, so every program resolves the master afresh on
// every (re)connect; use Connection::Open rather than calling it directly.
// Thread-safety: safe to call from several threads (the shared SentinelList
// locks itself).
#ifndef PHYSICS_ENGINE_REDIS_SENTINEL_H_
#define PHYSICS_ENGINE_REDIS_SENTINEL_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"

namespace physics::redis {

// Each sentinel gets this long (or connect_timeout, when shorter) to accept
// the connection, and again to answer.
inline constexpr absl::Duration kSentinelTimeout = absl::Milliseconds(250);
// The pause between two rounds over all sentinels.
inline constexpr absl::Duration kSentinelRetryPause = absl::Milliseconds(100);

// Rounds over cfg.sentinels (in SentinelList order), each sentinel asked
// SENTINEL get-master-addr-by-name cfg.master_name; the first answer whose
// address accepts a connection (connect_timeout, AUTH/SELECT as for redis://)
// and says ROLE = master wins. The first sentinel to name an address in a
// round moves to the front of the list (only the first: with the master down,
// the order, and so the error text, stays the same from call to call). Rounds are repeated after kSentinelRetryPause until
// connect_timeout has passed since the call (at least one full round is made,
// so a call may last one round longer: at most 2 x min(kSentinelTimeout,
// connect_timeout) per sentinel plus connect_timeout per named master).
// The connection returned is a plain one to the master, with io_timeout.
// Errors:
//   kUnavailable       no usable master: one line with what each sentinel
//                      answered in the last round (unreachable, no such
//                      master, the master's address unreachable or a replica);
//   kUnauthenticated / kPermissionDenied
//                      the master refused the data-node credentials (or ROLE),
//                      or every sentinel refused REDIS_SENTINEL_PASSWORD;
//   kInvalidArgument   the master has no such db index.
// REQUIRES: cfg.uses_sentinels().
absl::StatusOr<Connection> OpenSentinelMaster(const Config& cfg, absl::Duration connect_timeout,
                                              absl::Duration io_timeout);

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_SENTINEL_H_
