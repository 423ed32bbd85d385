// End to end: physics-engine (sim) → redis-server → physics-bridge → K
// WebSocket clients, all real processes on this machine. The clients are this
// program's own epoll loop (cheap enough not to be the bottleneck: its CPU
// per message is reported, about half the bridge's; --client-threads spreads
// the connections over more loops, which measured no better at 1 000 clients
// on two cores and costs more CPU per message). Per run it reports latency
// from the event's `timestamp` to receipt (P50/P99/max), messages delivered
// per second, lost messages (seq gaps per client and symbol), bridge CPU per
// delivered message, bridge RSS and the bridge's own latency split (from its
// /metrics); optionally the same run with one client that never reads, to
// show it costs the others nothing, and the machine's floor for a run: the
// same bursts written straight to loopback sockets, no Redis/engine/bridge.
//
//   build/bin/e2e_bench                  # 100x10Hz K=10,100 (+floor, +slow client); 100x1Hz K=1000 (+floor)
//   build/bin/e2e_bench --only 100x1x1000 --seconds 10 [--floor | --slow-client]
//   build/bin/e2e_bench --quick --json bench/results/e2e.json
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/results_json.h"
#include "bench/sample_state.h"
#include "bridge/frame.h"
#include "bridge/ws_codec.h"
#include "engine/cli/flags.h"
#include "engine/feed/sim_feed.h"
#include "engine/http_client/http_client.h"
#include "engine/schema/event_header.h"
#include "engine/schema/state_message.h"
#include "engine/schema/timestamp.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

using testing::Process;
using testing::ProcessOptions;

// CPU seconds (user + system) a process has used, from /proc/PID/stat.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  double utime = 0, stime = 0;  // fields 14 and 15; f[0] is field 3
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) return 0;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessRssMb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      double kb = 0;
      std::istringstream(line.substr(6)) >> kb;
      return kb / 1024;
    }
  }
  return 0;
}

double ThreadCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The engine writes events with a fixed field order (SPEC §3 shape):
// {"event":"PHYSICS_UPDATE","symbol":"SPY","timestamp":"...Z","seq":N,...
// Reading symbol, timestamp and seq at those places costs a few tens of
// nanoseconds, so the benchmark's own client stays far cheaper than the bridge
// it measures. Returns false when the layout differs (then simdjson is used).
// Every event of a tick has the same timestamp text: the last one parsed is
// reused (parsing it was a sixth of the client's CPU).
struct TimestampCache {
  std::string text;
  schema::EpochMicros value = 0;
};

struct FastHeader {
  std::string_view symbol;  // inside the event
  int64_t seq = 0;
  schema::EpochMicros timestamp = 0;
};

bool FastEventHeader(std::string_view event, TimestampCache& cache, FastHeader& out) {
  static constexpr std::string_view kPrefix = R"({"event":"PHYSICS_UPDATE","symbol":")";
  static constexpr std::string_view kTimestamp = R"(","timestamp":")";
  static constexpr std::string_view kSeq = R"(","seq":)";
  if (event.substr(0, kPrefix.size()) != kPrefix) return false;
  const size_t symbol_end = event.find('"', kPrefix.size());
  if (symbol_end == std::string_view::npos) return false;
  const size_t ts = symbol_end + kTimestamp.size();
  const size_t seq = ts + schema::kIso8601MicrosLength + kSeq.size();
  if (event.size() < seq + 1 || event.substr(symbol_end, kTimestamp.size()) != kTimestamp ||
      event.substr(ts + schema::kIso8601MicrosLength, kSeq.size()) != kSeq) {
    return false;
  }
  const std::string_view timestamp = event.substr(ts, schema::kIso8601MicrosLength);
  if (timestamp != cache.text) {
    absl::StatusOr<schema::EpochMicros> t = schema::ParseTimestamp(timestamp);
    if (!t.ok()) return false;
    cache.text.assign(timestamp);
    cache.value = *t;
  }
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(event.data() + seq, event.data() + event.size(), n);
  if (ec != std::errc()) return false;
  out.symbol = event.substr(kPrefix.size(), symbol_end - kPrefix.size());
  out.timestamp = cache.value;
  out.seq = n;
  return true;
}

// One WebSocket client connection: blocking handshake, then non-blocking reads.
struct Client {
  int fd = -1;
  bool reader = true;  // false: never reads (the slow client)
  bool closed = false;
  std::string carry;  // the start of a frame that has not fully arrived yet
  std::vector<int64_t> last_seq;  // per symbol index; 0 = none yet
  size_t next_symbol = 0;         // the symbol index expected next
};

// A TCP connection to 127.0.0.1:port, TCP_NODELAY (the floor's clients).
absl::Status ConnectTcp(Client& c, int port) {
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return absl::OkStatus();
}

// Connects to the bridge, upgrades to WebSocket and subscribes to everything.
// `receive_buffer` > 0: a small receive window (the client that never reads).
absl::Status Connect(Client& c, int port, int receive_buffer) {
  absl::StatusOr<http::WebSocketConnection> ws =
      http::UpgradeToWebSocket(http::Url{"127.0.0.1", std::to_string(port), "/ws"}, absl::Seconds(10),
                               http::WebSocketOptions{.receive_buffer = receive_buffer});
  if (!ws.ok()) return ws.status();
  c.fd = ws->fd;
  c.carry = std::move(ws->pending);
  std::string subscribe;
  bridge::AppendMaskedFrame(bridge::Opcode::kText, true,
                            R"({"type":"subscribe","channel":"state_update"})", 0x12345678, subscribe);
  if (::send(c.fd, subscribe.data(), subscribe.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(subscribe.size())) {
    return absl::UnavailableError("subscribe write failed");
  }
  return absl::OkStatus();
}

// The bridge's own view of a run, from the sums and counts of its /metrics
// histograms: event timestamp -> read from Redis, and read -> socket write done.
struct BridgeLatencySums {
  double redis_sum = 0, redis_count = 0, write_sum = 0, write_count = 0;
};

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

struct RunSpec {
  int symbols = 100;
  double hz = 10;
  int clients = 10;
  bool slow_client = false;
  double seconds = 10;
  // Without Redis, the engine or the bridge: see Harness::RunFloor.
  bool floor = false;
};

struct RunResult {
  RunSpec spec;
  int64_t delivered = 0, lost = 0, closed_clients = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  // Each burst (the messages of one event timestamp) has its own P99: their
  // median and the worst. A run's P99 is set by its slowest bursts; the
  // median burst tells a steady cost from one hiccup.
  double burst_p99_median_ms = -1, burst_p99_worst_ms = -1;  // -1: no full burst
  double delivered_per_sec = 0, bridge_cpu_us_per_msg = 0, client_cpu_us_per_msg = 0;
  double bridge_cpu_seconds = 0;  // over the measured window (floor: the sender threads')
  double bridge_rss_mb = 0;
  // Means over the run from the bridge's histograms, ms (-1: not measured).
  double redis_to_bridge_ms = -1, bridge_to_socket_ms = -1;
  std::string slow_client_outcome;
};

// One client thread: reads its share of the connections (one epoll set) and
// keeps its own figures, merged after the run.
class Reader {
 public:
  // `symbols` and `symbol_index` are the run's, read-only while readers run.
  Reader(const std::vector<std::string>& symbols,
         const absl::flat_hash_map<std::string, int>& symbol_index, size_t expected_messages)
      : symbols_(symbols), symbol_index_(symbol_index) {
    // Touched now so that recording a latency never takes a page fault.
    latencies_ms_.assign(expected_messages, 0);
    latencies_ms_.clear();
    stamps_.assign(expected_messages, 0);
    stamps_.clear();
  }

  // Reads every complete frame a client has; returns false when it closed.
  // All of the thread's clients read into one buffer that stays in cache (a
  // buffer per client made each read's copy land in cold memory: 1 000
  // clients x a burst's 35 KB), keeping only an incomplete frame's bytes in
  // the client.
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
  schema::EventHeader header_;
  TimestampCache timestamp_cache_;
  std::string scratch_ = std::string(1 << 18, '\0');
};

class Harness {
 public:
  Harness(std::string engine_bin, std::string bridge_bin, int client_threads)
      : engine_bin_(std::move(engine_bin)),
        bridge_bin_(std::move(bridge_bin)),
        client_threads_(client_threads) {}

  absl::StatusOr<RunResult> Run(const RunSpec& spec);

 private:
  using Clock = std::chrono::steady_clock;

  // The real system: engine (sim) -> redis-server -> physics-bridge -> clients.
  absl::StatusOr<RunResult> RunSystem(const RunSpec& spec);
  // This machine's floor for the same run: the same bursts (events of the
  // engine's size, each wrapped as the bridge wraps it) written by plain
  // threads straight to the clients' loopback TCP sockets, every burst packed
  // in one buffer and sent with one blocking send per client, as many sender
  // threads as the bridge has io threads. No Redis, no engine, no bridge: the
  // least any bridge could cost here, read by the same client loop.
  absl::StatusOr<RunResult> RunFloor(const RunSpec& spec);

  // Fills result's burst_p99_* from latencies_ms_ and stamps_; bursts with
  // fewer messages than a full one (cut by the end of the run) are left out.
  // REQUIRES: result.spec is set.
  void BurstP99s(RunResult& result) const;
  // Resets the per-run state and returns the run's symbols.
  std::vector<std::string> Prepare(const RunSpec& spec);
  // Reads every client (those with reader set) until `end` on
  // client_threads_ threads, measuring from `measure_at`, when `on_measure`
  // runs (to snapshot the server side). Fills the client-side figures of
  // `result` and latencies_ms_, delivered_, lost_, client_cpu_.
  void Measure(std::vector<Client>& clients, Clock::time_point measure_at, Clock::time_point end,
               const std::function<void()>& on_measure, RunResult& result);
  absl::StatusOr<int> WaitForPort(Process& bridge);

  std::string engine_bin_, bridge_bin_;
  int client_threads_;
  size_t expected_messages_ = 0;
  std::vector<std::string> symbols_;
  absl::flat_hash_map<std::string, int> symbol_index_;
  std::vector<float> latencies_ms_;
  std::vector<int64_t> stamps_;  // event timestamp of each latency
  int64_t delivered_ = 0, lost_ = 0;
  double client_cpu_ = 0;
};

// The bridge's default --io-threads; the floor uses as many sender threads.
constexpr int kSenderThreads = 2;

absl::StatusOr<int> Harness::WaitForPort(Process& bridge) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    const std::string log = bridge.ReadStderr();
    const size_t at = log.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) {
      int port = 0;
      const size_t start = at + 30;
      if (absl::SimpleAtoi(log.substr(start, log.find('/', start) - start), &port)) return port;
    }
    if (!bridge.running()) return absl::InternalError("physics-bridge exited: " + log);
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("physics-bridge did not report its port");
}

bool Reader::Drain(Client& c, bool measuring, int64_t measure_from) {
  std::memcpy(scratch_.data(), c.carry.data(), c.carry.size());
  size_t used = c.carry.size();
  while (true) {
    if (used == scratch_.size()) scratch_.resize(scratch_.size() * 2);  // a frame larger than the buffer
    const size_t room = scratch_.size() - used;
    const ssize_t n = ::recv(c.fd, scratch_.data() + used, room, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    used += static_cast<size_t>(n);
    const int64_t done = HandleFrames(c, std::string_view(scratch_.data(), used), schema::NowEpochMicros(),
                                      measuring, measure_from);
    if (done < 0) return false;
    std::memmove(scratch_.data(), scratch_.data() + done, used - static_cast<size_t>(done));
    used -= static_cast<size_t>(done);
    // A short read took everything there was; epoll (level-triggered) calls
    // again when more arrives, so no extra recv just to see EAGAIN.
    if (static_cast<size_t>(n) < room) break;
  }
  c.carry.assign(scratch_.data(), used);
  return true;
}

int64_t Reader::HandleFrames(Client& c, std::string_view data, int64_t now, bool measuring,
                             int64_t measure_from) {
  size_t pos = 0;
  while (data.size() - pos >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data() + pos);
    const int opcode = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t header = 2;
    if (len == 126) {
      if (data.size() - pos < 4) break;
      len = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (data.size() - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      header = 10;
    }
    if (data.size() - pos < header + len) break;
    const std::string_view payload(data.data() + pos + header, len);
    pos += header + len;
    if (opcode == 0x8) return -1;
    if (opcode != 0x1) continue;
    // The bridge's wrapper around state_update events, else found by search.
    static constexpr std::string_view kWrapper = R"({"type":"message","channel":"state_update","data":)";
    size_t data = kWrapper.size();
    if (payload.substr(0, kWrapper.size()) != kWrapper) {
      data = payload.find("\"data\":");
      if (payload.compare(0, 17, R"({"type":"message")") != 0 || data == std::string_view::npos) continue;
      data += 7;
    }
    const std::string_view event = payload.substr(data, payload.size() - data - 1);
    FastHeader h;
    if (!FastEventHeader(event, timestamp_cache_, h)) {
      if (!schema::ParseEventHeader(event, /*padded=*/false, header_).ok()) continue;
      h = FastHeader{header_.symbol, header_.seq, header_.timestamp.value_or(0)};
    }
    // A tick's messages come in the same symbol order every time: the one
    // after the previous message's symbol is tried before the hash table.
    size_t index = c.next_symbol;
    if (index >= symbols_.size() || symbols_[index] != h.symbol) {
      const auto it = symbol_index_.find(absl::string_view(h.symbol.data(), h.symbol.size()));
      if (it == symbol_index_.end()) continue;
      index = static_cast<size_t>(it->second);
    }
    c.next_symbol = index + 1;
    int64_t& last = c.last_seq[index];
    if (measuring && last > 0 && h.seq > last + 1) lost += h.seq - last - 1;
    if (h.seq > last) last = h.seq;
    if (measuring && h.timestamp != 0 && h.timestamp >= measure_from) {
      ++delivered;
      latencies_ms_.push_back(static_cast<float>(now - h.timestamp) / 1000.0f);
      stamps_.push_back(h.timestamp);
    }
  }
  return static_cast<int64_t>(pos);
}

absl::StatusOr<RunResult> Harness::Run(const RunSpec& spec) {
  absl::StatusOr<RunResult> result = spec.floor ? RunFloor(spec) : RunSystem(spec);
  if (!result.ok()) return result;
  result->spec = spec;
  result->delivered = delivered_;
  result->lost = lost_;
  BurstP99s(*result);
  std::sort(latencies_ms_.begin(), latencies_ms_.end());
  if (!latencies_ms_.empty()) {
    auto at = [&](double q) { return latencies_ms_[static_cast<size_t>(q * (latencies_ms_.size() - 1))]; };
    result->p50_ms = at(0.5);
    result->p99_ms = at(0.99);
    result->max_ms = latencies_ms_.back();
  }
  result->delivered_per_sec = static_cast<double>(delivered_) / spec.seconds;
  if (delivered_ > 0) {
    result->bridge_cpu_us_per_msg = result->bridge_cpu_seconds * 1e6 / static_cast<double>(delivered_);
    result->client_cpu_us_per_msg = client_cpu_ * 1e6 / static_cast<double>(delivered_);
  }
  return result;
}

void Harness::BurstP99s(RunResult& result) const {
  std::vector<std::pair<int64_t, float>> samples(stamps_.size());
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = {stamps_[i], latencies_ms_[i]};
  std::sort(samples.begin(), samples.end());
  const size_t full = static_cast<size_t>(result.spec.symbols * result.spec.clients);
  // A burst's events share one timestamp (the floor's sender threads stamp
  // theirs microseconds apart): stamps within half a period are one burst.
  const auto half_period = static_cast<int64_t>(0.5e6 / result.spec.hz);
  std::vector<float> p99s;
  std::vector<float> burst;
  for (size_t begin = 0; begin < samples.size();) {
    size_t end = begin;
    while (end < samples.size() && samples[end].first - samples[begin].first < half_period) ++end;
    if (end - begin >= full) {
      burst.clear();
      for (size_t i = begin; i < end; ++i) burst.push_back(samples[i].second);
      std::sort(burst.begin(), burst.end());
      p99s.push_back(burst[(burst.size() - 1) * 99 / 100]);
    }
    begin = end;
  }
  if (p99s.empty()) return;
  std::sort(p99s.begin(), p99s.end());
  result.burst_p99_median_ms = p99s[p99s.size() / 2];
  result.burst_p99_worst_ms = p99s.back();
}

std::vector<std::string> Harness::Prepare(const RunSpec& spec) {
  symbol_index_.clear();
  symbols_ = feed::DefaultSymbols(static_cast<size_t>(spec.symbols));
  for (size_t i = 0; i < symbols_.size(); ++i) symbol_index_[symbols_[i]] = static_cast<int>(i);
  latencies_ms_.clear();
  stamps_.clear();
  expected_messages_ = static_cast<size_t>(spec.symbols * spec.hz * spec.clients * spec.seconds * 1.2);
  delivered_ = lost_ = 0;
  client_cpu_ = 0;
  return symbols_;
}

void Harness::Measure(std::vector<Client>& clients, Clock::time_point measure_at,
                      Clock::time_point end, const std::function<void()>& on_measure,
                      RunResult& result) {
  const size_t threads = static_cast<size_t>(client_threads_);
  std::vector<std::unique_ptr<Reader>> readers;
  for (size_t t = 0; t < threads; ++t) {
    readers.push_back(std::make_unique<Reader>(symbols_, symbol_index_, expected_messages_ / threads + 1));
  }
  std::atomic<int64_t> measure_from{0};  // 0: not measuring yet
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Reader& reader = *readers[t];
      const int epfd = epoll_create1(0);
      for (size_t i = t; i < clients.size(); i += threads) {
        if (!clients[i].reader) continue;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(epfd, EPOLL_CTL_ADD, clients[i].fd, &ev);
      }
      int64_t from = 0;
      double cpu0 = 0;
      epoll_event events[256];
      while (Clock::now() < end) {
        if (from == 0 && (from = measure_from.load(std::memory_order_acquire)) != 0) {
          cpu0 = ThreadCpuSeconds();
        }
        const int n = epoll_wait(epfd, events, 256, 50);
        for (int i = 0; i < n; ++i) {
          Client& c = clients[events[i].data.u64];
          if (!reader.Drain(c, from != 0, from) && !c.closed) {
            c.closed = true;
            ++reader.closed_clients;
            epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
          }
        }
      }
      if (from != 0) reader.cpu_seconds = ThreadCpuSeconds() - cpu0;
      ::close(epfd);
    });
  }
  std::this_thread::sleep_until(measure_at);
  measure_from.store(schema::NowEpochMicros(), std::memory_order_release);
  on_measure();
  for (std::thread& w : workers) w.join();
  for (const std::unique_ptr<Reader>& r : readers) {
    latencies_ms_.insert(latencies_ms_.end(), r->latencies_ms().begin(), r->latencies_ms().end());
    stamps_.insert(stamps_.end(), r->stamps().begin(), r->stamps().end());
    delivered_ += r->delivered;
    lost_ += r->lost;
    client_cpu_ += r->cpu_seconds;
    result.closed_clients += r->closed_clients;
  }
}

// Warm-up (connections, windows, allocator) before measuring.
constexpr auto kWarmup = std::chrono::seconds(3);

absl::StatusOr<RunResult> Harness::RunSystem(const RunSpec& spec) {
  RunResult result;
  const std::vector<std::string> symbols = Prepare(spec);
  testing::RedisServer redis;
  if (absl::Status s = redis.Start(); !s.ok()) return s;
  absl::StatusOr<Process> bridge = Process::Spawn(ProcessOptions{
      .argv = {bridge_bin_, "--listen", "127.0.0.1:0", "--max-clients", "5000"},
      .env = {{"REDIS_URL", redis.url()}},
      .unset_env = {"REDIS_NAMESPACE"}});
  if (!bridge.ok()) return bridge.status();
  absl::StatusOr<int> port = WaitForPort(*bridge);
  if (!port.ok()) return port.status();

  std::vector<Client> clients(static_cast<size_t>(spec.clients + (spec.slow_client ? 1 : 0)));
  for (size_t i = 0; i < clients.size(); ++i) {
    Client& c = clients[i];
    c.reader = !(spec.slow_client && i == clients.size() - 1);
    if (absl::Status s = Connect(c, *port, c.reader ? 0 : 4096); !s.ok()) return s;
    c.last_seq.assign(symbols.size(), 0);
  }

  absl::StatusOr<Process> engine = Process::Spawn(ProcessOptions{
      .argv = {engine_bin_, "--symbols", std::to_string(spec.symbols), "--hz", absl::StrCat(spec.hz)},
      .env = {{"REDIS_URL", redis.url()}},
      .unset_env = {"REDIS_NAMESPACE"}});
  if (!engine.ok()) return engine.status();

  const auto measure_at = Clock::now() + kWarmup;
  const auto end = measure_at + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(spec.seconds));
  double bridge_cpu0 = 0;
  // Scraped on a thread so the client loop never stalls on it.
  std::thread scrape;
  absl::StatusOr<BridgeLatencySums> sums0 = absl::UnknownError("not scraped");
  Measure(clients, measure_at, end, [&] {
    bridge_cpu0 = ProcessCpuSeconds(bridge->pid());
    scrape = std::thread([&] { sums0 = ScrapeBridge(*port); });
  }, result);
  result.bridge_cpu_seconds = ProcessCpuSeconds(bridge->pid()) - bridge_cpu0;
  result.bridge_rss_mb = ProcessRssMb(bridge->pid());
  if (scrape.joinable()) scrape.join();
  absl::StatusOr<BridgeLatencySums> sums1 = ScrapeBridge(*port);
  if (sums0.ok() && sums1.ok()) {
    const auto mean_ms = [](double sum, double count) { return count > 0 ? sum * 1e3 / count : -1; };
    result.redis_to_bridge_ms = mean_ms(sums1->redis_sum - sums0->redis_sum, sums1->redis_count - sums0->redis_count);
    result.bridge_to_socket_ms = mean_ms(sums1->write_sum - sums0->write_sum, sums1->write_count - sums0->write_count);
  }
  if (spec.slow_client) {
    // The slow client never read: the bridge must have closed it (its socket
    // then reports EOF or a reset once its buffered bytes are skipped).
    Client& slow = clients.back();
    char sink[65536];
    ssize_t got;
    while ((got = ::recv(slow.fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0) {}
    result.slow_client_outcome = got == 0 || (got < 0 && errno != EAGAIN) ? "closed by the bridge"
                                                                          : "still open";
  }
  engine->Terminate();
  bridge->Terminate();
  for (Client& c : clients) ::close(c.fd);
  return result;
}

absl::StatusOr<RunResult> Harness::RunFloor(const RunSpec& spec) {
  RunResult result;
  const std::vector<std::string> symbols = Prepare(spec);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_size = sizeof(addr);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, 4096) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_size) != 0) {
    return absl::UnavailableError(absl::StrCat("floor listener: ", strerror(errno)));
  }
  std::vector<Client> clients(static_cast<size_t>(spec.clients));
  std::vector<int> server_fds;
  for (size_t i = 0; i < clients.size(); ++i) {
    if (absl::Status s = ConnectTcp(clients[i], ntohs(addr.sin_port)); !s.ok()) return s;
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return absl::UnavailableError(absl::StrCat("floor accept: ", strerror(errno)));
    const int one = 1, send_buffer = 256 * 1024;  // as the bridge sets them
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    server_fds.push_back(fd);
    clients[i].last_seq.assign(symbols.size(), 0);
  }
  ::close(listener);

  const auto measure_at = Clock::now() + kWarmup;
  const auto end = measure_at + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(spec.seconds));
  std::atomic<bool> measuring{false};
  std::atomic<double> sender_cpu{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenderThreads; ++t) {
    senders.emplace_back([&, t] {
      const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / spec.hz));
      std::string state, event;
      std::vector<bridge::FramePtr> frames;
      double cpu0 = 0;
      bool counted = false;
      auto next = Clock::now();
      for (int64_t seq = 1; Clock::now() < end; ++seq) {
        std::this_thread::sleep_until(next);
        next += period;
        if (!counted && measuring.load()) {
          counted = true;
          cpu0 = ThreadCpuSeconds();
        }
        // A burst as the engine writes it: every symbol stamped now.
        schema::StateFields fields = bench::SampleState();
        fields.seq = seq;
        fields.timestamp = schema::NowEpochMicros();
        frames.clear();
        for (const std::string& symbol : symbols) {
          state.clear();
          event.clear();
          schema::AppendStateJson(fields, state);
          if (!schema::EventFromStateJson(symbol, state, event).ok()) return;
          frames.push_back(bridge::BuildMessageFrame("state_update", event, true));
        }
        const std::vector<bridge::FramePtr> packed = bridge::PackFrames(frames);
        const char* const bytes = packed.front()->bytes().data();
        const size_t size = static_cast<size_t>(packed.back()->bytes().data() + packed.back()->bytes().size() - bytes);
        for (size_t i = static_cast<size_t>(t); i < server_fds.size(); i += kSenderThreads) {
          for (size_t sent = 0; sent < size;) {
            const ssize_t n = ::send(server_fds[i], bytes + sent, size - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<size_t>(n);
          }
        }
      }
      if (counted) sender_cpu.fetch_add(ThreadCpuSeconds() - cpu0);
    });
  }
  Measure(clients, measure_at, end, [&] { measuring = true; }, result);
  for (std::thread& t : senders) t.join();
  result.bridge_cpu_seconds = sender_cpu.load();
  for (const int fd : server_fds) ::close(fd);
  for (Client& c : clients) ::close(c.fd);
  return result;
}

std::string Dir(const char* argv0) {
  std::string self = argv0;
  const size_t slash = self.rfind('/');
  return slash == std::string::npos ? "." : self.substr(0, slash);
}

int Main(int argc, char** argv) {
  bool quick = false, floor = false, slow_client = false;
  double seconds = 10;
  std::string json_path, only;
  cli::FlagSet flags("e2e_bench",
                     "Engine (sim) -> Redis -> bridge -> K WebSocket clients, all on this machine.");
  flags.AddBool("quick", &quick, "CI mode: 100 symbols x 10 Hz with 10 clients for 3 s");
  int64_t client_threads = 1;
  flags.AddInt("client-threads", &client_threads, 1, 64,
               "threads reading the WebSocket clients (each takes every n-th connection)");
  flags.AddDouble("seconds", &seconds, 1, 3600, "measured seconds per run (after a 3 s warm-up)");
  flags.AddString("only", &only, "run only this one, e.g. 100x10x100 (symbols x Hz x clients)");
  flags.AddBool("floor", &floor,
                "with --only: this machine's floor for that run instead (the same bursts over plain "
                "loopback sockets, no Redis, engine or bridge)");
  flags.AddBool("slow-client", &slow_client,
                "with --only: one more client that subscribes and never reads");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if ((floor || slow_client) && only.empty()) return flags.UsageError("--floor and --slow-client need --only");
  if (floor && slow_client) return flags.UsageError("--floor and --slow-client go separately");

  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  std::vector<RunSpec> runs;
  if (quick) {
    runs = {{100, 10, 10, false, flags.WasSet("seconds") ? seconds : 3}};
  } else if (!only.empty()) {
    std::vector<std::string> p = absl::StrSplit(only, 'x');
    RunSpec r;
    if (p.size() != 3 || !absl::SimpleAtoi(p[0], &r.symbols) || !absl::SimpleAtod(p[1], &r.hz) ||
        !absl::SimpleAtoi(p[2], &r.clients) || r.symbols < 1 || r.hz <= 0 || r.clients < 1) {
      return flags.UsageError("--only: expected SYMBOLSxHZxCLIENTS, e.g. 100x10x100");
    }
    r.seconds = seconds;
    r.floor = floor;
    r.slow_client = slow_client;
    runs = {r};
  } else {
    // Each target run is followed by its floor.
    runs = {{100, 10, 10, false, seconds},
            {100, 10, 100, false, seconds},
            {100, 10, 100, false, seconds, true},
            {100, 10, 100, true, seconds},
            {100, 1, 1000, false, seconds},
            {100, 1, 1000, false, seconds, true}};
  }

  const std::string dir = Dir(argv[0]);
  Harness harness(dir + "/physics-engine", dir + "/physics-bridge", static_cast<int>(client_threads));
  std::vector<RunResult> results;
  for (const RunSpec& spec : runs) {
    absl::StatusOr<RunResult> r = harness.Run(spec);
    if (!r.ok()) {
      std::cerr << "e2e_bench: " << r.status() << "\n";
      return 1;
    }
    results.push_back(*r);
  }

  std::cout << "\nEnd to end: engine (sim) -> redis-server -> physics-bridge -> WebSocket clients\n"
               "(floor rows: the same bursts over plain loopback sockets, no Redis, engine or bridge;\n"
               " bridge columns there are the sender threads')\n"
               "| symbols x Hz | clients | delivered/s | P50 ms | P99 ms | max ms | burst P99 median / worst ms | lost | bridge CPU us/msg | client CPU us/msg | bridge RSS MB | event->bridge ms | bridge->socket ms | note |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  std::vector<bench::JsonObject> rows;
  for (const RunResult& r : results) {
    const std::string note = r.spec.floor         ? "floor: plain loopback sockets"
                             : r.spec.slow_client ? "+1 client that never reads: " + r.slow_client_outcome
                                                  : "";
    std::cout << absl::StrFormat("| %d x %g | %d | %.0f | %.2f | %.2f | %.2f | %.2f / %.2f | %d | %.2f | %.2f | %.1f | %.2f | %.2f | %s |\n",
                                 r.spec.symbols, r.spec.hz, r.spec.clients, r.delivered_per_sec,
                                 r.p50_ms, r.p99_ms, r.max_ms, r.burst_p99_median_ms,
                                 r.burst_p99_worst_ms, r.lost, r.bridge_cpu_us_per_msg,
                                 r.client_cpu_us_per_msg, r.bridge_rss_mb, r.redis_to_bridge_ms,
                                 r.bridge_to_socket_ms, note);
    // The run, what arrived, its latency, what it cost, the bridge's split.
    rows.emplace_back()
        .Int("symbols", r.spec.symbols).Number("hz", r.spec.hz).Int("clients", r.spec.clients)
        .Bool("slow_client", r.spec.slow_client).Bool("floor", r.spec.floor)
        .Number("delivered_per_sec", r.delivered_per_sec)
        .Number("p50_ms", r.p50_ms).Number("p99_ms", r.p99_ms).Number("max_ms", r.max_ms)
        .Number("burst_p99_median_ms", r.burst_p99_median_ms).Number("burst_p99_worst_ms", r.burst_p99_worst_ms)
        .Int("lost", r.lost)
        .Number("bridge_cpu_us_per_msg", r.bridge_cpu_us_per_msg)
        .Number("client_cpu_us_per_msg", r.client_cpu_us_per_msg).Number("bridge_rss_mb", r.bridge_rss_mb)
        .Number("redis_to_bridge_ms", r.redis_to_bridge_ms).Number("bridge_to_socket_ms", r.bridge_to_socket_ms)
        .String("note", note);
  }
  return bench::WriteResults("e2e_bench", json_path,
                             bench::JsonObject().String("benchmark", "e2e").Array("rows", rows));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
