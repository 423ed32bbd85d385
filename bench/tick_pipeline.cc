// The engine's tick pipeline against a real redis-server: loop-tick wall time
// (fold + compute + one pipeline round trip with every reply) P50/P99/max at
// N symbols, the sustained rate when ticking as fast as possible, and the
// server's own limit for the same command mix (redis-cli --pipe) in the same
// run. Prints a table and writes JSON.
//
//   build/bin/tick_pipeline                       # 100, 1000, 10000 symbols
//   build/bin/tick_pipeline --quick --json out.json
//   build/bin/tick_pipeline --leader-lease 2       # fenced writes (standby mode)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/redis_limit.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"
#include "engine/feed/sim_feed.h"
#include "engine/loop/state_writer.h"
#include "engine/loop/symbol_book.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace physics {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Row {
  size_t symbols = 0;
  int ticks = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double updates_per_sec = 0;
  double pipe_updates_per_sec = 0;
  // CPU per symbol update in the sustained run, µs: load-independent, unlike
  // the wall-clock figures on a busy machine.
  double redis_cpu_us = 0, engine_cpu_us = 0;
};

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * (v.size() - 1))];
}

Row Measure(const testing::RedisServer& server, const testing::TempDir& dir, size_t symbols,
            size_t window, int latency_ticks, double sustain_seconds, double lease_seconds) {
  Row row;
  row.symbols = symbols;
  auto bursts = bench::RecordBursts(symbols, 64);
  loop::SymbolBook book(window, "");
  loop::WriterOptions options;
  if (lease_seconds > 0) {
    options.heartbeat_id = "tick_pipeline";
    options.leader_lease = absl::Seconds(lease_seconds);
  }
  loop::StateWriter writer(server.config(), options);
  int64_t next = 0;
  auto feed_burst = [&] {
    auto& burst = bursts[next % bursts.size()];
    const schema::EpochMicros ts = 1766318400LL * 1'000'000 + next * 1000;
    for (schema::Tick& t : burst) {
      t.timestamp = ts;
      book.Accept(t);
    }
    ++next;
  };
  // Fill every window first (no Redis), so the figures are steady state.
  for (size_t i = 0; i < window; ++i) {
    feed_burst();
    book.CloseTick();
    book.MarkAllWritten();
  }
  // After the fill, which may take longer than the lease.
  if (lease_seconds > 0 && !writer.TryLead(nullptr)) std::cerr << "tick_pipeline: no lease\n";
  std::vector<double> ms;
  for (int i = 0; i < latency_ticks + 5; ++i) {
    const auto t0 = Clock::now();
    feed_burst();
    book.CloseTick([&] { writer.Stream(book); });
    if (absl::Status s = writer.Flush(book); !s.ok()) std::cerr << "flush: " << s << "\n";
    if (i >= 5) ms.push_back(Ms(Clock::now() - t0));  // first few warm the connection
  }
  row.ticks = latency_ticks;
  row.p50_ms = Percentile(ms, 0.5);
  row.p99_ms = Percentile(ms, 0.99);
  row.max_ms = Percentile(ms, 1.0);

  int64_t updates = 0;
  const double redis_cpu0 = bench::RedisCpuSeconds(server), own_cpu0 = bench::OwnCpuSeconds();
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(sustain_seconds));
  while (Clock::now() < until) {
    feed_burst();
    updates += static_cast<int64_t>(book.CloseTick([&] { writer.Stream(book); }));
    if (absl::Status s = writer.Flush(book); !s.ok()) std::cerr << "flush: " << s << "\n";
  }
  row.updates_per_sec = static_cast<double>(updates) / std::chrono::duration<double>(Clock::now() - start).count();
  row.redis_cpu_us = (bench::RedisCpuSeconds(server) - redis_cpu0) * 1e6 / static_cast<double>(updates);
  row.engine_cpu_us = (bench::OwnCpuSeconds() - own_cpu0) * 1e6 / static_cast<double>(updates);
  if (!writer.leading()) std::cerr << "tick_pipeline: lost the lease; figures are a standby's\n";
  std::cerr << absl::StrFormat("%d symbols: %d pipelines, %d commands, %d error replies\n", symbols,
                               writer.counters().pipelines, writer.counters().commands,
                               writer.counters().error_replies);

  // The same commands, for the server's own limit: enough ticks for ~1 s.
  redis::Pipeline pipeline;
  const std::string resp_path = dir.File(absl::StrCat("mix-", symbols, ".resp"));
  {
    std::ofstream out(resp_path, std::ios::binary);
    const int64_t target = std::max<int64_t>(static_cast<int64_t>(row.updates_per_sec * 1.5), 20000);
    int64_t written = 0;
    while (written < target) {
      feed_burst();
      written += static_cast<int64_t>(book.CloseTick());
      writer.AppendCommands(book, pipeline);
      book.MarkAllWritten();
      out << pipeline.buffer();
      pipeline.Clear();
    }
    out.close();
    const bench::PipeRun pipe = bench::PipeFile(server, resp_path);
    row.pipe_updates_per_sec = pipe.ok ? static_cast<double>(written) / pipe.seconds : 0;
  }
  return row;
}

int Main(int argc, char** argv) {
  std::string symbols_list = "100,1000,10000", json_path;
  int64_t window = 1000, ticks = 200;
  double seconds = 5, lease = 0;
  bool quick = false;
  cli::FlagSet flags("tick_pipeline", "Measures the engine's loop tick against a private redis-server.");
  flags.AddString("symbols", &symbols_list, "comma list of symbol counts");
  flags.AddInt("window", &window, 2, 100000, "observations per symbol");
  flags.AddInt("ticks", &ticks, 10, 1000000, "loop ticks timed for the latency figures");
  flags.AddDouble("seconds", &seconds, 0.1, 600, "length of the sustained-rate run per size");
  flags.AddBool("quick", &quick, "CI mode: 100 and 1000 symbols, 100 ticks, 1 s");
  flags.AddString("json", &json_path, "write results to this file");
  flags.AddDouble("leader-lease", &lease, 0, 3600,
                  "seconds; > 0 writes as a lease holder (fenced transactions, as "
                  "physics-engine --leader-lease)");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if (quick) {
    if (!flags.WasSet("symbols")) symbols_list = "100,1000";
    if (!flags.WasSet("ticks")) ticks = 100;
    if (!flags.WasSet("seconds")) seconds = 1;
  }

  testing::RedisServer server;
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << "tick_pipeline: cannot start redis-server: " << s << "\n";
    return 1;
  }
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("tick-pipeline-");
  std::vector<Row> rows;
  for (absl::string_view n : absl::StrSplit(symbols_list, ',')) {
    size_t count = 0;
    if (!absl::SimpleAtoi(n, &count) || count == 0) return flags.UsageError("bad --symbols");
    rows.push_back(Measure(server, *dir, count, static_cast<size_t>(window), static_cast<int>(ticks), seconds, lease));
    server.Run({"FLUSHALL"}).IgnoreError();
  }

  std::cout << absl::StrFormat("\nTick pipeline (window %d, redis-server on loopback%s)\n", window,
                               lease > 0 ? absl::StrCat(", leader lease ", lease, " s") : "");
  std::cout << "| symbols | tick P50 ms | tick P99 ms | tick max ms | updates/s | redis-cli --pipe updates/s | ratio | redis CPU µs/update | engine CPU µs/update |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<bench::JsonObject> json_rows;
  for (const Row& r : rows) {
    const double ratio = r.pipe_updates_per_sec > 0 ? r.updates_per_sec / r.pipe_updates_per_sec : 0;
    std::cout << absl::StrFormat("| %d | %.3f | %.3f | %.3f | %.0f | %.0f | %.2f | %.2f | %.2f |\n",
                                 r.symbols, r.p50_ms, r.p99_ms, r.max_ms, r.updates_per_sec,
                                 r.pipe_updates_per_sec, ratio, r.redis_cpu_us, r.engine_cpu_us);
    json_rows.emplace_back()
        .Int("symbols", static_cast<int64_t>(r.symbols)).Int("ticks", r.ticks)
        .Number("p50_ms", r.p50_ms).Number("p99_ms", r.p99_ms).Number("max_ms", r.max_ms)
        .Number("updates_per_sec", r.updates_per_sec).Number("pipe_updates_per_sec", r.pipe_updates_per_sec)
        .Number("ratio", ratio).Number("redis_cpu_us", r.redis_cpu_us).Number("engine_cpu_us", r.engine_cpu_us);
  }
  return bench::WriteResults(
      "tick_pipeline", json_path,
      bench::JsonObject().String("benchmark", "tick_pipeline").Int("window", window).Array("rows", json_rows));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
