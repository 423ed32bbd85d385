// physics-bridge's settings (the command-line flags, docs/SPEC.md §6)
// and the parsers for the compound ones.
// Thread-safety: plain values and pure functions.
#ifndef PHYSICS_BRIDGE_OPTIONS_H_
#define PHYSICS_BRIDGE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/redis/partition.h"

namespace physics::bridge {

struct ListenAddress {
  std::string host;  // an IP literal (IPv6 without brackets)
  uint16_t port = 0; // 0: any free port (the bound one is logged)
};

struct BridgeOptions {
  ListenAddress listen = {"127.0.0.1", 8080};
  // Extra channels (exact names, or glob patterns for PSUBSCRIBE), as given
  // by --channels; clients subscribe by these names.
  std::vector<std::string> channels;
  int64_t max_clients = 10000;
  int64_t max_frame_bytes = 64 * 1024;
  int64_t max_client_msgs_per_sec = 50;
  int64_t queue_depth = 1024;
  int64_t slow_client_ms = 2000;
  // io threads, each with its own share of the clients (Hub shard); 1 is a
  // single thread for every socket. At most BridgeMetrics::kMaxIoThreads.
  int64_t io_threads = 2;
  // Required on /ws and /api/* (Authorization: Bearer, or ?token=) when not
  // empty (--token, --token-file, $PHYSICS_BRIDGE_TOKEN).
  std::string token;
  // Origins a WebSocket upgrade may come from (lower case); empty: any.
  std::vector<std::string> allowed_origins;
  // Partition channels state_update arrives on with a redis-cluster:// URL
  // (--partitions, the engine's; redis/partition.h).
  int64_t partitions = redis::kDefaultPartitions;
};

// "HOST:PORT" or "[IPV6]:PORT", HOST an IP literal or "localhost", PORT
// 0-65535. kInvalidArgument saying what is accepted.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

// A comma-separated list of channel names or glob patterns (1-128 chars, no
// spaces or control characters, not state_update itself); "" is none.
// Duplicates are dropped. kInvalidArgument naming the bad entry.
absl::StatusOr<std::vector<std::string>> ParseChannelList(std::string_view text);

// Whether a channel entry is a glob pattern (contains * ? or [): PSUBSCRIBE.
bool IsChannelPattern(std::string_view channel);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_OPTIONS_H_
