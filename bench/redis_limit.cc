#include "bench/redis_limit.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/feed/sim_feed.h"

namespace physics::bench {
namespace {

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return Seconds(u.ru_utime) + Seconds(u.ru_stime);
}

// The lines of a text reply (INFO, CLUSTER INFO), empty when the server
// does not answer.
std::vector<std::string> ReplyLines(const testing::RedisServer& server,
                                    std::initializer_list<std::string_view> argv) {
  absl::StatusOr<redis::Reply> r = server.Run(argv);
  if (!r.ok() || (*r)->str == nullptr) return {};
  return absl::StrSplit(absl::string_view((*r)->str, (*r)->len), "\r\n");
}

std::vector<std::string> InfoLines(const testing::RedisServer& server, std::string_view section) {
  return ReplyLines(server, {"INFO", section});
}

// The integer after `prefix` on the first line that starts with it, up to a
// ',' (commandstats) or the line's end; 0 when none.
int64_t CounterAfter(absl::string_view line, absl::string_view prefix) {
  int64_t v = 0;
  if (!absl::StartsWith(line, prefix)) return 0;
  const absl::string_view rest = line.substr(prefix.size());
  return absl::SimpleAtoi(rest.substr(0, rest.find(',')), &v) ? v : 0;
}

// Feeds recorded ticks into a vector.
class Recorder : public feed::TickSink {
 public:
  void Accept(const schema::Tick& tick) override { ticks.push_back(tick); }
  void Reject(const feed::TickOrigin&, const absl::Status&) override {}
  std::vector<schema::Tick> ticks;
};

}  // namespace

double RedisCpuSeconds(const testing::RedisServer& server) {
  double total = 0;
  for (absl::string_view line : InfoLines(server, "cpu")) {
    for (absl::string_view key : {"used_cpu_user:", "used_cpu_sys:"}) {
      double v = 0;
      if (absl::StartsWith(line, key) && absl::SimpleAtod(line.substr(key.size()), &v)) total += v;
    }
  }
  return total;
}

int64_t CommandCalls(const testing::RedisServer& server, std::string_view command) {
  // cmdstat_publish:calls=123,usec=...
  const std::string key = absl::StrCat("cmdstat_", absl::string_view(command.data(), command.size()), ":calls=");
  for (absl::string_view line : InfoLines(server, "commandstats")) {
    if (absl::StartsWith(line, key)) return CounterAfter(line, key);
  }
  return 0;
}

CommandTotals AllCommands(const testing::RedisServer& server) {
  // cmdstat_publish:calls=123,usec=456,usec_per_call=...
  CommandTotals total;
  for (absl::string_view line : InfoLines(server, "commandstats")) {
    const size_t calls = line.find(":calls="), usec = line.find(",usec=");
    if (!absl::StartsWith(line, "cmdstat_") || calls == absl::string_view::npos ||
        usec == absl::string_view::npos) {
      continue;
    }
    total.calls += CounterAfter(line.substr(calls), ":calls=");
    total.usec += CounterAfter(line.substr(usec), ",usec=");
  }
  return total;
}

int64_t ClusterInfoCounter(const testing::RedisServer& server, std::string_view field) {
  const std::string key = absl::StrCat(absl::string_view(field.data(), field.size()), ":");
  for (absl::string_view line : ReplyLines(server, {"CLUSTER", "INFO"})) {
    if (absl::StartsWith(line, key)) return CounterAfter(line, key);
  }
  return 0;
}

double OwnCpuSeconds() { return CpuSeconds(RUSAGE_SELF); }

PipeRun PipeFile(const testing::RedisServer& server, const std::string& resp_path) {
  const std::string cmd =
      absl::StrCat("redis-cli -p ", server.port(), " --pipe < ", resp_path, " > /dev/null");
  PipeRun run;
  const double redis0 = RedisCpuSeconds(server), children0 = CpuSeconds(RUSAGE_CHILDREN);
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = std::system(cmd.c_str());
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.client_cpu_seconds = CpuSeconds(RUSAGE_CHILDREN) - children0;
  run.redis_cpu_seconds = RedisCpuSeconds(server) - redis0;
  run.ok = rc == 0;
  if (!run.ok) std::cerr << "redis-cli --pipe failed\n";
  return run;
}

std::vector<std::vector<schema::Tick>> RecordBursts(size_t symbols, int bursts) {
  feed::SimFeed sim(feed::DefaultSymbols(symbols), 42);
  std::vector<std::vector<schema::Tick>> out(static_cast<size_t>(bursts));
  for (int i = 0; i < bursts; ++i) {
    Recorder r;
    sim.GenerateBurst(1766318400LL * 1'000'000 + i * 1000, r);
    out[static_cast<size_t>(i)] = std::move(r.ticks);
  }
  return out;
}

}  // namespace physics::bench
