#include "bench/e2e/prometheus_scrape.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/http_client/http_client.h"

namespace physics::bench::e2e {

absl::StatusOr<BridgeLatencySums> ScrapeBridge(int port) {
  absl::StatusOr<http::Response> r =
      http::Get(http::Url{"127.0.0.1", std::to_string(port), "/metrics"}, absl::Seconds(2));
  if (!r.ok()) return r.status();
  BridgeLatencySums sums;
  const std::pair<absl::string_view, double*> wanted[] = {
      {"bridge_redis_to_bridge_seconds_sum ", &sums.redis_sum},
      {"bridge_redis_to_bridge_seconds_count ", &sums.redis_count},
      {"bridge_socket_write_seconds_sum ", &sums.write_sum},
      {"bridge_socket_write_seconds_count ", &sums.write_count}};
  for (const absl::string_view line : absl::StrSplit(r->body, '\n')) {
    for (const auto& [prefix, value] : wanted) {
      if (line.size() <= prefix.size() || line.substr(0, prefix.size()) != prefix) continue;
      if (!absl::SimpleAtod(line.substr(prefix.size()), value)) {
        return absl::InternalError(absl::StrCat("bad /metrics line: ", std::string(line)));
      }
    }
  }
  return sums;
}

}  // namespace physics::bench::e2e
