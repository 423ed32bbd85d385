#include "bench/e2e/harness.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/e2e/proc_sampler.h"
#include "bench/e2e/prometheus_scrape.h"
#include "bench/sample_state.h"
#include "bridge/frame.h"
#include "engine/feed/sim_feed.h"
#include "engine/schema/state_message.h"
#include "engine/schema/timestamp.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"

namespace physics::bench::e2e {
namespace {

using testing::Process;
using testing::ProcessOptions;

// Warm-up (connections, windows, allocator) before measuring.
constexpr auto kWarmup = std::chrono::seconds(3);

// The bridge's default --io-threads; the floor uses as many sender threads.
constexpr int kSenderThreads = 2;

// The port physics-bridge reports listening on (it was started with port 0).
absl::StatusOr<int> WaitForPort(Process& bridge) {
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

}  // namespace

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

}  // namespace physics::bench::e2e
