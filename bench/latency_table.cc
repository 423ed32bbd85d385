// The documented latency table (docs/SPEC.md §1, "Latency targets": GET
// 0.1/0.3/0.5, SET 0.2/0.4/0.8, PUBLISH 0.3/0.6/1.2 ms at P50/P95/P99) measured
// with our Redis client on one connection against a private redis-server,
// beside this machine's floor from redis-benchmark in the same run. --check fails (exit 1)
// when any P99 exceeds the documented P99.
//
//   build/bin/latency_table                       # N = 100 000 per operation
//   build/bin/latency_table --quick --check --json bench/results/latency.json
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/results_json.h"
#include "bench/sample_state.h"
#include "engine/cli/flags.h"
#include "engine/redis/connection.h"
#include "engine/schema/state_message.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

using Clock = std::chrono::steady_clock;

struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};

struct Row {
  std::string op;
  Percentiles documented, ours, floor;
};

Percentiles Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * (ms.size() - 1))]; };
  return Percentiles{at(0.5), at(0.95), at(0.99), ms.back()};
}

// Times `n` round trips of `argv` after `warmup` untimed ones.
absl::StatusOr<Percentiles> Time(redis::Connection& conn, std::initializer_list<std::string_view> argv,
                                 int warmup, int n) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(n));
  for (int i = 0; i < warmup + n; ++i) {
    const auto t0 = Clock::now();
    absl::StatusOr<redis::Reply> r = conn.Command(argv);
    const auto t1 = Clock::now();
    if (!r.ok()) return r.status();
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return Summarise(std::move(ms));
}

// redis-benchmark -c 1 --csv: "test","rps","avg","min","p50","p95","p99","max".
absl::StatusOr<Percentiles> Floor(int port, int n, const std::string& args) {
  const std::string cmd = absl::StrCat("redis-benchmark -p ", port, " -c 1 -n ", n,
                                       " --precision 3 --csv ", args, " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run redis-benchmark");
  std::string out;
  char buf[4096];
  while (size_t got = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, got);
  if (pclose(pipe) != 0) return absl::InternalError("redis-benchmark failed: " + cmd);
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (line.empty() || absl::StartsWith(line, "\"test\"")) continue;
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() < 8) continue;
    auto num = [&](int i) { return std::stod(std::string(absl::StripSuffix(absl::StripPrefix(f[i], "\""), "\""))); };
    return Percentiles{num(4), num(5), num(6), num(7)};
  }
  return absl::InternalError("no CSV row from redis-benchmark: " + out);
}

std::string SampleStateJson() {
  std::string json;
  schema::AppendStateJson(bench::SampleState(), json);
  return json;
}

int Main(int argc, char** argv) {
  int64_t n = 100'000;
  bool quick = false, check = false;
  std::string json_path;
  cli::FlagSet flags("latency_table",
                     "GET/SET/PUBLISH latency on one connection vs the documented table and "
                     "redis-benchmark's floor, against a private redis-server.");
  flags.AddInt("n", &n, 1000, 10'000'000, "round trips per operation (after a 10% warm-up)");
  flags.AddBool("quick", &quick, "CI mode: n = 20000");
  flags.AddBool("check", &check, "exit 1 when a P99 exceeds the documented P99");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if (quick && !flags.WasSet("n")) n = 20'000;
  const int count = static_cast<int>(n), warmup = count / 10;

  testing::RedisServer server;
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << "latency_table: cannot start redis-server: " << s << "\n";
    return 1;
  }
  absl::StatusOr<redis::Connection> conn = server.Connect();
  if (!conn.ok()) {
    std::cerr << "latency_table: " << conn.status() << "\n";
    return 1;
  }
  const std::string state = SampleStateJson();
  std::string event;
  (void)schema::EventFromStateJson("SPY", state, event);

  // One subscriber attached for PUBLISH, draining so Redis never buffers.
  absl::StatusOr<redis::Connection> sub = server.Connect();
  std::atomic<bool> stop{false};
  (void)sub->Command({"SUBSCRIBE", "state_update"});
  std::thread drain([&] {
    while (!stop.load()) (void)sub->ReadReplyWithin(absl::Milliseconds(100));
  });

  std::vector<Row> rows = {
      {"GET (hit)", {0.1, 0.3, 0.5, 0}, {}, {}},
      {"SET", {0.2, 0.4, 0.8, 0}, {}, {}},
      {"PUBLISH", {0.3, 0.6, 1.2, 0}, {}, {}},
  };
  (void)conn->Command({"SET", "physics:state:SPY", state});
  absl::StatusOr<Percentiles> get = Time(*conn, {"GET", "physics:state:SPY"}, warmup, count);
  absl::StatusOr<Percentiles> set = Time(*conn, {"SET", "physics:state:SPY", state}, warmup, count);
  absl::StatusOr<Percentiles> pub = Time(*conn, {"PUBLISH", "state_update", event}, warmup, count);
  // The floor, same sizes: redis-benchmark's SET/GET with a state-sized value,
  // PUBLISH with an event-sized payload to the channel our subscriber holds.
  absl::StatusOr<Percentiles> floor_set = Floor(server.port(), count, absl::StrCat("-t set -d ", state.size()));
  absl::StatusOr<Percentiles> floor_get = Floor(server.port(), count, absl::StrCat("-t get -d ", state.size()));
  absl::StatusOr<Percentiles> floor_pub =
      Floor(server.port(), count, absl::StrCat("PUBLISH state_update ", std::string(event.size(), 'x')));
  stop = true;
  drain.join();
  for (const auto* s : {&get, &set, &pub, &floor_get, &floor_set, &floor_pub}) {
    if (!s->ok()) {
      std::cerr << "latency_table: " << s->status() << "\n";
      return 1;
    }
  }
  rows[0].ours = *get, rows[0].floor = *floor_get;
  rows[1].ours = *set, rows[1].floor = *floor_set;
  rows[2].ours = *pub, rows[2].floor = *floor_pub;

  bool over = false;
  std::cout << absl::StrFormat("\nLatency, ms, one connection, N = %d per operation (loopback redis-server)\n", count);
  std::cout << "| operation | documented P50/P95/P99 | ours P50/P95/P99 (max) | floor P50/P95/P99 | ours P99 / documented P50 | ours P99 / floor P99 |\n"
               "|---|---|---|---|---:|---:|\n";
  std::vector<bench::JsonObject> json_rows;
  for (const Row& r : rows) {
    over |= r.ours.p99 > r.documented.p99;
    std::cout << absl::StrFormat("| %s | %.1f / %.1f / %.1f | %.3f / %.3f / %.3f (%.3f) | %.3f / %.3f / %.3f | %.2f | %.2f |\n",
                                 r.op, r.documented.p50, r.documented.p95, r.documented.p99,
                                 r.ours.p50, r.ours.p95, r.ours.p99, r.ours.max, r.floor.p50,
                                 r.floor.p95, r.floor.p99, r.ours.p99 / r.documented.p50,
                                 r.ours.p99 / r.floor.p99);
    json_rows.emplace_back()
        .String("op", r.op).Number("documented_p99_ms", r.documented.p99)
        .Number("p50_ms", r.ours.p50).Number("p95_ms", r.ours.p95).Number("p99_ms", r.ours.p99)
        .Number("max_ms", r.ours.max)
        .Number("floor_p50_ms", r.floor.p50).Number("floor_p95_ms", r.floor.p95).Number("floor_p99_ms", r.floor.p99);
  }
  const bench::JsonObject results =
      bench::JsonObject().String("benchmark", "latency_table").Int("n", count).Array("rows", json_rows);
  if (int code = bench::WriteResults("latency_table", json_path, results)) return code;
  if (check && over) {
    std::cerr << "latency_table: a P99 exceeds the documented P99\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
