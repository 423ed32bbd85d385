#include "bridge/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace physics::bridge {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(ClientError::kCount)> kErrorLabels = {
    "bad_json", "bad_request", "binary", "oversized", "rate_limited", "flood", "protocol"};

template <typename T>
void Metric(std::string& out, std::string_view name, std::string_view type,
            std::string_view help, const std::atomic<T>& value) {
  absl::StrAppend(&out, "# HELP ", std::string(name), " ", std::string(help), "\n# TYPE ",
                  std::string(name), " ", std::string(type), "\n", std::string(name), " ",
                  value.load(std::memory_order_relaxed), "\n");
}

}  // namespace

void LatencyHistogram::Observe(int64_t micros, uint64_t count) {
  if (micros < 0) micros = 0;
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kBoundsMicros.begin(), kBoundsMicros.end(), micros) - kBoundsMicros.begin());
  const auto bump = [](auto& value, auto delta) {
    value.store(value.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  };
  bump(buckets_[bucket], count);
  bump(count_, count);
  bump(sum_micros_, micros * static_cast<int64_t>(count));
}

void LatencyHistogram::RenderSum(std::string_view name, std::string_view help,
                                 std::span<const LatencyHistogram> parts, std::string& out) {
  const std::string n(name);
  absl::StrAppend(&out, "# HELP ", n, " ", std::string(help), "\n# TYPE ", n, " histogram\n");
  uint64_t cumulative = 0, count = 0;
  int64_t sum_micros = 0;
  for (const LatencyHistogram& part : parts) {
    count += part.count_.load(std::memory_order_relaxed);
    sum_micros += part.sum_micros_.load(std::memory_order_relaxed);
  }
  for (size_t i = 0; i < kBoundsMicros.size() + 1; ++i) {
    for (const LatencyHistogram& part : parts) {
      cumulative += part.buckets_[i].load(std::memory_order_relaxed);
    }
    const std::string le =
        i < kBoundsMicros.size() ? absl::StrCat(static_cast<double>(kBoundsMicros[i]) / 1e6) : "+Inf";
    absl::StrAppend(&out, n, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, n, "_sum ", static_cast<double>(sum_micros) / 1e6, "\n", n, "_count ",
                  count, "\n");
}

std::string BridgeMetrics::Render() const {
  std::string out;
  out.reserve(4096);
  Metric(out, "bridge_clients", "gauge", "WebSocket clients connected now.", clients);
  Metric(out, "bridge_clients_accepted_total", "counter", "WebSocket handshakes completed.",
         clients_accepted);
  Metric(out, "bridge_clients_rejected_total", "counter",
         "WebSocket upgrades refused because --max-clients were connected.", clients_rejected);
  Metric(out, "bridge_messages_in_total", "counter", "Messages read from Redis pub/sub.",
         messages_in);
  Metric(out, "bridge_messages_out_total", "counter",
         "Message frames written to client sockets (one per recipient).", messages_out);
  Metric(out, "bridge_messages_conflated_total", "counter",
         "Queued messages replaced by a newer one for the same symbol (client queue full).",
         messages_conflated);
  Metric(out, "bridge_messages_dropped_total", "counter",
         "Messages not queued for a client whose queue was full with nothing to conflate.",
         messages_dropped);
  Metric(out, "bridge_slow_client_closes_total", "counter",
         "Clients closed for staying behind longer than --slow-client-ms.", slow_client_closes);
  absl::StrAppend(&out,
                  "# HELP bridge_client_errors_total Client input refused, by reason.\n"
                  "# TYPE bridge_client_errors_total counter\n");
  for (size_t i = 0; i < kErrorLabels.size(); ++i) {
    absl::StrAppend(&out, "bridge_client_errors_total{reason=\"", std::string(kErrorLabels[i]),
                    "\"} ", client_errors[i].load(std::memory_order_relaxed), "\n");
  }
  Metric(out, "bridge_http_requests_total", "counter", "HTTP requests served.", http_requests);
  Metric(out, "bridge_auth_failures_total", "counter",
         "Requests to /ws or /api/* refused with 401: token missing or wrong (--token).",
         auth_failures);
  Metric(out, "bridge_origin_rejections_total", "counter",
         "WebSocket upgrades refused with 403: Origin not in --allowed-origins.", origin_rejections);
  Metric(out, "bridge_bad_messages_total", "counter",
         "state_update payloads without a valid symbol and seq (not forwarded).", bad_messages);
  Metric(out, "bridge_stale_messages_total", "counter",
         "Messages not forwarded because a newer state for the symbol was already sent.",
         stale_messages);
  Metric(out, "bridge_seq_gaps_total", "counter", "Gaps seen in a symbol's seq.", seq_gaps);
  Metric(out, "bridge_repairs_total", "counter",
         "States re-read from physics:state:{SYM} and sent after a gap or reconnect.", repairs);
  Metric(out, "bridge_redis_reconnects_total", "counter", "Redis subscriber reconnections.",
         redis_reconnects);
  Metric(out, "bridge_redis_connected", "gauge", "1 when subscribed to Redis.", redis_connected);
  redis_latency.Render("bridge_redis_to_bridge_seconds",
                       "Event timestamp to receipt by the bridge.", out);
  LatencyHistogram::RenderSum("bridge_socket_write_seconds",
                              "Receipt by the bridge to the client socket write completing.",
                              write_latency, out);
  return out;
}

}  // namespace physics::bridge
