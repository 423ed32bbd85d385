#include "bridge/options.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "engine/schema/state_message.h"

namespace physics::bridge {

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen \"", std::string(text),
                     "\": expected HOST:PORT with an IP address (e.g. 127.0.0.1:8080, "
                     "0.0.0.0:8080, [::1]:8080) and a port 0-65535"));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad();
  }
  ListenAddress out;
  out.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  out.port = static_cast<uint16_t>(port);
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseChannelList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view entry = text.substr(start, comma - start);
    const bool printable = std::all_of(entry.begin(), entry.end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && c != 0x7F;
    });
    if (entry.empty() || entry.size() > 128 || !printable ||
        entry == schema::kStateUpdateChannel) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--channels entry \"", std::string(entry),
          "\": expected comma-separated channel names or glob patterns, 1-128 printable "
          "characters without spaces (state_update is always subscribed)"));
    }
    if (std::find(out.begin(), out.end(), entry) == out.end()) out.emplace_back(entry);
    start = comma + 1;
  }
  return out;
}

bool IsChannelPattern(std::string_view channel) {
  return channel.find_first_of("*?[") != std::string_view::npos;
}

}  // namespace physics::bridge
