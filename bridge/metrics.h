// The bridge's counters, gauges and latency histograms, rendered in the
// Prometheus text format for GET /metrics.
// Thread-safe: every value is a relaxed atomic, written by the io threads or
// the subscriber thread and read by whichever io thread renders /metrics.
// Counters shared by io threads use fetch_add; a histogram has one writer, so
// each io thread (Hub shard) observes into its own and Render sums them.
#ifndef PHYSICS_BRIDGE_METRICS_H_
#define PHYSICS_BRIDGE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>

namespace physics::bridge {

// A fixed-bucket latency histogram (seconds), 100 µs .. 5 s. One thread
// observes (each histogram belongs to one io thread or the subscriber thread),
// any thread renders. Cache-line aligned so io threads' histograms side by
// side do not share a line.
class alignas(64) LatencyHistogram {
 public:
  static constexpr std::array<int64_t, 13> kBoundsMicros = {
      100, 250, 500, 1000, 2500, 5000, 10000, 20000, 50000, 100000, 250000, 1000000, 5000000};

  // Counts `count` observations of `micros`.
  // REQUIRES: always called from the same thread. Plain load+store instead
  // of a locked read-modify-write: this runs for every write to a client.
  void Observe(int64_t micros, uint64_t count = 1);
  // Appends the _bucket/_sum/_count lines (HELP/TYPE included).
  void Render(std::string_view name, std::string_view help, std::string& out) const {
    RenderSum(name, help, std::span<const LatencyHistogram>(this, 1), out);
  }
  // The same for the bucket-wise sum of `parts` (one histogram per thread).
  static void RenderSum(std::string_view name, std::string_view help,
                        std::span<const LatencyHistogram> parts, std::string& out);

 private:
  std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_micros_{0};
};

// Why a client's input was refused; one labelled counter each.
enum class ClientError {
  kBadJson,
  kBadRequest,   // unknown type, unknown channel, bad symbols list
  kBinary,
  kOversized,
  kRateLimited,
  kFlood,
  kProtocol,
  kCount,
};

struct BridgeMetrics {
  // The most io threads (--io-threads); each has its own write_latency.
  static constexpr size_t kMaxIoThreads = 16;

  // io threads
  // WebSocket clients, counted from the upgrade's admission (TryAddClient)
  // until their session is removed from its hub.
  std::atomic<int64_t> clients{0};
  std::atomic<uint64_t> clients_accepted{0};
  std::atomic<uint64_t> clients_rejected{0};    // over --max-clients
  std::atomic<uint64_t> messages_out{0};        // data frames written to sockets
  std::atomic<uint64_t> messages_conflated{0};
  std::atomic<uint64_t> messages_dropped{0};
  std::atomic<uint64_t> slow_client_closes{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ClientError::kCount)> client_errors{};
  std::atomic<uint64_t> http_requests{0};
  std::atomic<uint64_t> auth_failures{0};       // 401: token missing or wrong
  std::atomic<uint64_t> origin_rejections{0};   // 403: upgrade from an Origin not allowed
  // bridge receipt -> socket write done; [i] belongs to io thread i
  std::array<LatencyHistogram, kMaxIoThreads> write_latency;
  // subscriber thread
  std::atomic<uint64_t> messages_in{0};
  std::atomic<uint64_t> bad_messages{0};        // unparsable state_update payloads
  std::atomic<uint64_t> stale_messages{0};      // duplicates / older than what was sent
  std::atomic<uint64_t> seq_gaps{0};
  std::atomic<uint64_t> repairs{0};             // states re-read from Redis and sent
  std::atomic<uint64_t> redis_reconnects{0};
  std::atomic<int64_t> redis_connected{0};
  LatencyHistogram redis_latency;               // event timestamp -> bridge receipt

  // Counts one more client unless `max` are counted already. Atomic, so
  // upgrades admitted at once on several io threads never exceed `max`.
  bool TryAddClient(int64_t max) {
    int64_t n = clients.load(std::memory_order_relaxed);
    while (n < max) {
      if (clients.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void CountClientError(ClientError e) {
    client_errors[static_cast<size_t>(e)].fetch_add(1, std::memory_order_relaxed);
  }
  std::string Render() const;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_METRICS_H_
