// Reading many keys without blocking Redis, for the operator tools
// (physics-status, physics-top): SCAN ... MATCH in pages, then one MGET or one
// pipeline of per-key commands (TTL, ...) per page, so 10 000 keys cost a few
// dozen round trips and never a KEYS.
// Not thread-safe: every function uses the caller's Connection.
#ifndef PHYSICS_ENGINE_REDIS_KEY_SCAN_H_
#define PHYSICS_ENGINE_REDIS_KEY_SCAN_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/redis/connection.h"

namespace physics::redis {

// Keys per SCAN page (the COUNT hint) and per MGET / pipeline.
inline constexpr size_t kScanPage = 1000;

// Calls `on_page` with each non-empty page of keys matching `pattern` until
// SCAN's cursor is back at 0. As with SCAN itself, a key may be reported
// twice and keys added meanwhile may be missed. Stops at, and returns, the
// first error of SCAN or of `on_page`.
absl::Status ScanKeys(Connection& conn, std::string_view pattern,
                      absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page);

// MGET of `keys`; element i of the returned array reply is the value of
// keys[i] (nil when missing or not a string). REQUIRES: !keys.empty().
absl::StatusOr<Reply> MGet(Connection& conn, std::span<const std::string> keys);

// Sends `command key` for every key (e.g. "TTL") in one pipeline and returns
// the replies in key order; error replies are returned as replies.
// kUnavailable on I/O errors (the connection is then broken).
// Writes through hiredis's own functions (Connection::raw()), so the caller
// must ignore SIGPIPE.
absl::StatusOr<std::vector<Reply>> PerKey(Connection& conn, std::string_view command,
                                                 std::span<const std::string> keys);


}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_KEY_SCAN_H_
