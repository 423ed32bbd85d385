// Access control for physics-bridge's data endpoints (docs/SPEC.md §6): a shared
// bearer token for /ws and /api/*, and an Origin allow-list for WebSocket
// upgrades. Pure functions on request pieces, so they are tested without
// sockets; HttpSession applies them.
// Thread-safety: pure functions.
//
//   if (!TokenMatches(options.token, RequestToken(authorization, target))) -> 401
//   if (!OriginAllowed(options.allowed_origins, origin_header)) -> 403
#ifndef PHYSICS_BRIDGE_AUTH_H_
#define PHYSICS_BRIDGE_AUTH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace physics::bridge {

// Whether `given` equals `expected`, in time that depends only on
// expected.size() (no early exit at the first differing byte).
bool TokenMatches(std::string_view expected, std::string_view given);

// The token a request carries: the credentials of an `Authorization: Bearer
// <token>` header (scheme case-insensitive), else the percent-decoded value of
// the first `token` query parameter of `target`; nullopt when neither.
std::optional<std::string> RequestToken(std::string_view authorization, std::string_view target);

// Whether a WebSocket upgrade with this Origin header may proceed: yes when
// `allowed` is empty (no restriction) or the header is absent (`origin` is
// nullopt: non-browser clients send none, and a browser always does), else
// only for an exact (case-insensitive) match of an entry.
bool OriginAllowed(const std::vector<std::string>& allowed, std::optional<std::string_view> origin);

// A token given on the command line, in the environment or a file: 1-4096
// visible ASCII characters (it travels in a header and a URL).
// kInvalidArgument naming `source` (e.g. "--token") and what is accepted.
absl::Status CheckToken(std::string_view token, std::string_view source);

// The token in `path`, read once, without a trailing "\n" or "\r\n", and
// checked with CheckToken. kInvalidArgument (unreadable file, bad token),
// one line naming the path.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// "https://a.example,http://localhost:3000": comma-separated origins
// (scheme://host[:port], no path), lower-cased. kInvalidArgument naming the
// bad entry.
absl::StatusOr<std::vector<std::string>> ParseOriginList(std::string_view text);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_AUTH_H_
