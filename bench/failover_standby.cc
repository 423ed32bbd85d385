#include "bench/failover_standby.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <functional>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>
#include <unistd.h>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/failover_recorders.h"
#include "bench/results_json.h"
#include "engine/redis/pipeline.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_server.h"

namespace physics::bench {
namespace {

constexpr std::string_view kStream = "market:ticks";
constexpr std::string_view kFirstWrite = "first write as leader ";

struct StandbyFigures {
  double lease_taken_ms = 0;     // kill -> the standby holds the lease
  double lease_to_write_ms = 0;  // its own log line: lease taken -> first write
  double first_write_ms = 0;     // kill -> its first state_update
};

// Ticks for the stream: `symbols` random walks, one entry per call, round robin.
class TickMaker {
 public:
  explicit TickMaker(int symbols) : prices_(static_cast<size_t>(symbols), 100.0) {}
  // Appends XADD market:ticks * symbol S price P size N timestamp T.
  void Append(double timestamp, redis::Pipeline& pipeline) {
    const size_t i = next_++ % prices_.size();
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    prices_[i] *= 1 + 0.002 * (static_cast<double>(state_ >> 11) / static_cast<double>(1ULL << 53) - 0.5);
    const std::string symbol = absl::StrCat("S", i);
    const std::string price = absl::StrFormat("%.4f", prices_[i]);
    const std::string ts = absl::StrFormat("%.6f", timestamp);
    pipeline.Append({"XADD", kStream, "*", "symbol", symbol, "price", price, "size", "1",
                     "timestamp", ts});
  }

 private:
  std::vector<double> prices_;
  uint64_t next_ = 0;
  uint64_t state_ = 42;
};

double NowSeconds() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

// The backlog: `count` entries spread over the time it would have taken at
// `rate`, ending now.
absl::Status Preload(const testing::RedisServer& server, TickMaker& maker, int64_t count, int64_t rate) {
  absl::StatusOr<redis::Connection> conn = server.Connect();
  if (!conn.ok()) return conn.status();
  redis::Pipeline pipeline;
  const double start = NowSeconds() - static_cast<double>(count) / static_cast<double>(rate);
  for (int64_t i = 0; i < count; ++i) {
    maker.Append(start + static_cast<double>(i) / static_cast<double>(rate), pipeline);
    if (pipeline.size() >= 10'000 || i + 1 == count) {
      if (absl::Status s = pipeline.Execute(*conn); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// XADDs `rate` entries a second, stamped now, every 10 ms, until destroyed.
class LivePublisher {
 public:
  LivePublisher(const testing::RedisServer& server, TickMaker& maker, int64_t rate)
      : thread_([this, &server, &maker, rate] {
          absl::StatusOr<redis::Connection> conn = server.Connect();
          if (!conn.ok()) return;
          redis::Pipeline pipeline;
          const absl::Time start = absl::Now();
          int64_t sent = 0;
          while (!stop_.load()) {
            const int64_t due = static_cast<int64_t>(absl::ToDoubleSeconds(absl::Now() - start) *
                                                     static_cast<double>(rate));
            const double now = NowSeconds();
            for (; sent < due; ++sent) maker.Append(now, pipeline);
            if (pipeline.size() > 0 && !pipeline.Execute(*conn).ok()) return;
            absl::SleepFor(absl::Milliseconds(10));
          }
        }) {}
  ~LivePublisher() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

using testing::EngineId;

absl::Status WaitFor(const std::function<bool()>& condition, absl::Duration timeout, std::string_view what) {
  const absl::Time until = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= until) return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", std::string(what)));
    absl::SleepFor(absl::Milliseconds(2));
  }
  return absl::OkStatus();
}

int64_t EntriesRead(const testing::RedisServer& server) {
  absl::StatusOr<redis::Reply> r = server.Run({"XINFO", "GROUPS", kStream});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements == 0) return -1;
  const redisReply* g = (*r)->element[0];
  for (size_t i = 0; i + 1 < g->elements; i += 2) {
    if (redis::ReplyText(g->element[i]) == "entries-read") return g->element[i + 1]->integer;
  }
  return -1;
}

absl::StatusOr<StandbyFigures> RunOnce(const StandbyOptions& opt) {
  testing::RedisServer server;
  if (absl::Status s = server.Start(); !s.ok()) return s;
  const bool stream = opt.feed == "stream";
  TickMaker maker(opt.symbols);
  if (stream) {
    if (absl::Status s = Preload(server, maker, opt.backlog, opt.live_rate); !s.ok()) return s;
  }
  std::vector<std::string> args = {"--hz", absl::StrCat(opt.hz), "--leader-lease",
                                   absl::StrCat(opt.lease_seconds), "--feed", opt.feed};
  if (!stream) args.insert(args.end(), {"--symbols", absl::StrCat(opt.symbols)});
  absl::StatusOr<testing::Process> leader = testing::SpawnWithRedis(opt.engine_bin, server.url(), args);
  if (!leader.ok()) return leader.status();
  if (absl::Status s = WaitFor([&] { return server.String({"GET", "ops:leader:engine"}) == EngineId(*leader); },
                               absl::Seconds(10), "the first engine to lead");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<testing::Process> standby = testing::SpawnWithRedis(opt.engine_bin, server.url(), args);
  if (!standby.ok()) return standby.status();
  std::optional<LivePublisher> live;
  if (stream) {
    live.emplace(server, maker, opt.live_rate);
    if (absl::Status s = WaitFor([&] { return EntriesRead(server) >= opt.backlog; }, absl::Seconds(120),
                                 "the leader to drain the backlog");
        !s.ok()) {
      return s;
    }
  }
  absl::SleepFor(absl::Seconds(3));  // the steady state: live ticks, the standby caught up
  ChannelRecorder updates(server.config(), "state_update");
  absl::SleepFor(absl::Milliseconds(500));

  leader->Kill();
  const int64_t killed = absl::GetCurrentTimeNanos();
  int64_t lease_taken = 0;
  if (absl::Status s = WaitFor(
          [&] {
            if (lease_taken == 0 && server.String({"GET", "ops:leader:engine"}) == EngineId(*standby)) {
              lease_taken = absl::GetCurrentTimeNanos();
            }
            return standby->ReadStderr().find(kFirstWrite) != std::string::npos;
          },
          absl::Seconds(opt.lease_seconds + 60), "the standby's first write");
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(s.message(), ": ", standby->ReadStderr()));
  }
  absl::SleepFor(absl::Milliseconds(300));
  updates.Stop();
  live.reset();
  const std::string log = standby->ReadStderr();
  standby->Terminate(absl::Seconds(2));

  StandbyFigures f;
  f.lease_taken_ms = static_cast<double>(lease_taken - killed) / 1e6;
  const size_t at = log.find(kFirstWrite) + kFirstWrite.size();
  int64_t lease_to_write = 0;
  if (!absl::SimpleAtoi(log.substr(at, log.find(' ', at) - at), &lease_to_write)) {
    return absl::InternalError(absl::StrCat("unexpected log line: ", log.substr(at, 80)));
  }
  f.lease_to_write_ms = static_cast<double>(lease_to_write);
  // The dying leader's last messages arrive within a millisecond or so of the
  // kill; the standby's first comes after the lease.
  const auto first = std::find_if(updates.seen().begin(), updates.seen().end(),
                                  [&](const Seen& s) { return s.ns > killed + 200'000'000; });
  if (first == updates.seen().end()) return absl::InternalError("no state_update from the standby");
  f.first_write_ms = static_cast<double>(first->ns - killed) / 1e6;
  return f;
}

std::string Row(std::string_view label, const StandbyFigures& f) {
  return absl::StrFormat("| %s | %.0f | %.0f | %.0f |\n", label, f.lease_taken_ms, f.lease_to_write_ms,
                         f.first_write_ms);
}

JsonObject ToJson(const StandbyFigures& f) {
  return JsonObject()
      .Number("kill_to_lease_ms", f.lease_taken_ms)
      .Number("lease_to_first_write_ms", f.lease_to_write_ms)
      .Number("kill_to_first_write_ms", f.first_write_ms);
}

}  // namespace

int RunStandbyScenario(const StandbyOptions& opt, int64_t runs, const std::string& json_path) {
  std::optional<std::vector<StandbyFigures>> all =
      RunRepeatedly<StandbyFigures>(runs, [&] { return RunOnce(opt); });
  if (!all) return 1;
  const std::vector<StandbyFigures>& results = *all;
  std::cout << absl::StrFormat(
      "\nStandby engine (leader SIGKILLed): --feed %s, lease %g s, %g Hz, %d symbols%s\n"
      "| run | kill -> lease taken ms | lease -> first write ms (its log) | kill -> first "
      "state_update ms |\n|---|---:|---:|---:|\n",
      opt.feed, opt.lease_seconds, opt.hz, opt.symbols,
      opt.feed == "stream"
          ? absl::StrFormat(", backlog %d entries + %d entries/s live", opt.backlog, opt.live_rate)
          : "");
  std::vector<JsonObject> rows;
  for (size_t i = 0; i < results.size(); ++i) {
    std::cout << Row(absl::StrCat(i + 1), results[i]);
    rows.push_back(ToJson(results[i]));
  }
  std::vector<double> first;
  for (const StandbyFigures& f : results) first.push_back(f.first_write_ms);
  std::sort(first.begin(), first.end());
  std::cout << absl::StrFormat("| kill -> first write: median %.0f, min %.0f, max %.0f | target <= %.0f "
                               "(lease + one loop tick) |\n",
                               first[first.size() / 2], first.front(), first.back(),
                               1000 * (opt.lease_seconds + 1 / opt.hz));
  return WriteResults("failover_bench", json_path,
                      JsonObject()
                          .String("benchmark", "failover_standby")
                          .String("feed", opt.feed)
                          .Number("lease_seconds", opt.lease_seconds)
                          .Number("hz", opt.hz)
                          .Int("symbols", opt.symbols)
                          .Int("backlog", opt.backlog)
                          .Int("live_rate", opt.live_rate)
                          .Array("runs", rows)
                          .Number("kill_to_first_write_median_ms", first[first.size() / 2]));
}

}  // namespace physics::bench
