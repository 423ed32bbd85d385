// Parses what a WebSocket client may send (docs/SPEC.md §6): subscribe (with an
// optional symbols list), unsubscribe and ping, as JSON text. Anything else is
// answered with an error frame whose text comes from here.
// Thread-safe: each thread uses its own simdjson parser.
//
//   ClientRequest req;
//   if (RequestError e = ParseClientRequest(text, req); e.kind != ...) Reply(e.message);
#ifndef PHYSICS_BRIDGE_CLIENT_REQUEST_H_
#define PHYSICS_BRIDGE_CLIENT_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/metrics.h"

namespace physics::bridge {

// The most symbols one subscribe may name.
inline constexpr size_t kMaxSymbolsPerRequest = 4096;

struct ClientRequest {
  enum class Type { kSubscribe, kUnsubscribe, kPing };
  Type type = Type::kPing;
  // subscribe/unsubscribe: as given, or "state_update" when absent.
  std::string channel;
  // subscribe: normalised symbols (deduplicated); nullopt: every symbol.
  std::optional<std::vector<std::string>> symbols;
};

struct RequestError {
  ClientError kind;
  std::string message;  // for the error frame
};

// Fills `out` from one client text message, or returns why it is refused.
std::optional<RequestError> ParseClientRequest(std::string_view text, ClientRequest& out);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_CLIENT_REQUEST_H_
