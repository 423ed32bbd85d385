// The benchmark's WebSocket clients: a connection to the bridge (upgraded and
// subscribed to state_update) or a plain TCP one (the floor), and the Reader
// that drains a thread's share of them, checking seqs per symbol and
// recording each message's latency from its event timestamp.
// Thread-safety: Connect/ConnectTcp run before the client threads start; then
// each Client is read by one thread only, through that thread's own Reader.
// A Reader's figures are read after its thread has been joined.
#ifndef PHYSICS_BENCH_E2E_WS_READER_H_
#define PHYSICS_BENCH_E2E_WS_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "bench/e2e/event_parser.h"

namespace physics::bench::e2e {

// One client connection: blocking handshake, then non-blocking reads.
struct Client {
  int fd = -1;
  bool reader = true;  // false: never reads (the slow client)
  bool closed = false;
  std::string carry;  // the start of a frame that has not fully arrived yet
  std::vector<int64_t> last_seq;  // per symbol index; 0 = none yet
  size_t next_symbol = 0;         // the symbol index expected next
};

// A TCP connection to 127.0.0.1:port, TCP_NODELAY (the floor's clients).
absl::Status ConnectTcp(Client& c, int port);

// Connects to the bridge, upgrades to WebSocket and subscribes to everything.
// `receive_buffer` > 0: a small receive window (the client that never reads).
absl::Status Connect(Client& c, int port, int receive_buffer);

// One client thread: reads its share of the connections (one epoll set) and
// keeps its own figures, merged after the run.
class Reader {
 public:
  // `symbols` and `symbol_index` are the run's, read-only while readers run.
  Reader(const std::vector<std::string>& symbols,
         const absl::flat_hash_map<std::string, int>& symbol_index, size_t expected_messages);

  // Reads every complete frame a client has; returns false when it closed.
  // All of the thread's clients read into one buffer that stays in cache (a
  // buffer per client made each read's copy land in cold memory: 1 000
  // clients x a burst's 35 KB), keeping only an incomplete frame's bytes in
  // the client. Messages count (delivered, lost, latency) when `measuring`
  // and their event time is at or after `measure_from`.
  bool Drain(Client& c, bool measuring, int64_t measure_from);

  std::vector<float>& latencies_ms() { return latencies_ms_; }
  // The event timestamp of each latency (which burst it belongs to).
  std::vector<int64_t>& stamps() { return stamps_; }
  int64_t delivered = 0, lost = 0, closed_clients = 0;
  double cpu_seconds = 0;

 private:
  // Handles the complete frames at the start of `data`; returns the bytes
  // used, or -1 when the server sent a close frame.
  int64_t HandleFrames(Client& c, std::string_view data, int64_t now, bool measuring,
                       int64_t measure_from);

  const std::vector<std::string>& symbols_;
  const absl::flat_hash_map<std::string, int>& symbol_index_;
  std::vector<float> latencies_ms_;
  std::vector<int64_t> stamps_;
  EventParser parser_;
  std::string scratch_ = std::string(1 << 18, '\0');
};

}  // namespace physics::bench::e2e

#endif  // PHYSICS_BENCH_E2E_WS_READER_H_
