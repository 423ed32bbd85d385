#include "engine/redis/internal/cluster_redirect.h"

#include <charconv>

namespace physics::redis::internal {
namespace {

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Redirect ParseRedirect(std::string_view text) {
  const std::string_view word = text.substr(0, text.find(' '));
  Redirect r;
  if (word == "TRYAGAIN") r.kind = Redirect::Kind::kTryAgain;
  if (word == "CLUSTERDOWN") r.kind = Redirect::Kind::kClusterDown;
  if (word != "MOVED" && word != "ASK") return r;

  // "<word> <slot> <host>:<port>"; the host may be an IPv6 address (colons)
  // or empty.
  const std::string_view rest = text.substr(word.size() + (word.size() < text.size() ? 1 : 0));
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return r;
  const std::string_view address = rest.substr(space + 1);
  const size_t colon = address.rfind(':');
  unsigned slot = 0;
  int port = 0;
  if (colon == std::string_view::npos || !ParseNumber(rest.substr(0, space), slot) ||
      slot >= 16384 || !ParseNumber(address.substr(colon + 1), port) || port < 1 ||
      port > 65535) {
    return r;
  }
  r.kind = word == "MOVED" ? Redirect::Kind::kMoved : Redirect::Kind::kAsk;
  r.slot = static_cast<uint16_t>(slot);
  r.host = address.substr(0, colon);
  if (r.host.size() >= 2 && r.host.front() == '[' && r.host.back() == ']') {
    r.host = r.host.substr(1, r.host.size() - 2);
  }
  r.port = port;
  return r;
}

}  // namespace physics::redis::internal
