// The engine's loop tick on a Redis Cluster (3 masters on loopback, no
// replicas): wall time of one tick's writes (fold + compute + the writes with
// every reply) P50/P99 at N symbols, for ClusterWriter's two phases (states
// acknowledged, then the partitions' SPUBLISH transactions and snapshots)
// against the same commands in one phase (the states streamed the same way,
// the rest sent without waiting for their replies, so a message may leave
// before its state, stored on another master, is): the price of "a message
// only after its state is stored". Prints a table and
// writes JSON.
//
//   build/bin/cluster_tick                          # 100, 1000, 10000 symbols
//   build/bin/cluster_tick --symbols 1000 --ticks 500 --json out.json
#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"
#include "engine/feed/sim_feed.h"
#include "engine/loop/cluster_writer.h"
#include "engine/loop/symbol_book.h"
#include "engine/loop/symbol_commands.h"
#include "engine/redis/key_slot.h"
#include "tests/support/cluster_set.h"

namespace physics {
namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

struct Row {
  size_t symbols = 0;
  double two_p50 = 0, two_p99 = 0, one_p50 = 0, one_p99 = 0;
  // The part after the tick is computed: waiting on the cluster.
  double two_tail_p50 = 0, one_tail_p50 = 0;
};

Row Measure(const redis::Config& config, size_t symbols, int ticks) {
  feed::SimFeed sim(feed::DefaultSymbols(symbols), 42);
  loop::SymbolBook book(1000, "");
  loop::ClusterWriter writer(config, loop::WriterOptions{}, redis::kDefaultPartitions);
  absl::StatusOr<redis::Cluster> cluster = redis::Cluster::Open(config, absl::Seconds(1), absl::Seconds(2));
  if (!cluster.ok()) {
    std::cerr << "cluster_tick: " << cluster.status() << "\n";
    return {};
  }
  int64_t next = 0;
  const auto close_tick = [&](auto&& progress) {
    sim.GenerateBurst(1766318400LL * 1'000'000 + next++ * 1000, book);
    book.CloseTick(progress);
  };
  for (int i = 0; i < 200; ++i) {  // warm the windows (no Redis)
    close_tick([] {});
    book.MarkAllWritten();
  }
  Row row{.symbols = symbols};
  // Alternate the two ways, tick by tick, so both see the same machine load.
  std::vector<double> two, one, two_tail, one_tail;
  const auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  redis::ClusterPipeline states;
  const loop::SymbolCommands commands(0, 60);
  const std::vector<uint8_t> none_failed(symbols, 0);
  for (int i = 0; i < ticks + 10; ++i) {
    auto t0 = Clock::now();
    close_tick([&] { writer.Stream(book); });
    auto computed = Clock::now();
    if (absl::Status s = writer.Flush(book); !s.ok()) std::cerr << "two phases: " << s << "\n";
    const double two_ms = ms_since(t0), two_tail_ms = ms_since(computed);

    // One phase, streamed the same way: the states leave while the tick is
    // computed, the messages and snapshots follow in the same Execute.
    t0 = Clock::now();
    size_t streamed = 0;
    const auto stream = [&] {
      for (const auto& unwritten = book.unwritten(); streamed < unwritten.size(); ++streamed) {
        const loop::SymbolState& s = *unwritten[streamed];
        states.Append(redis::KeySlot(s.state_key), static_cast<uint32_t>(streamed), commands.StateSet(s).view());
      }
      states.SendNow(*cluster);
    };
    close_tick(stream);
    computed = Clock::now();
    stream();
    writer.AppendMessages(book, std::span<const uint8_t>(none_failed.data(), book.unwritten().size()), states);
    if (absl::Status s = states.Execute(*cluster); !s.ok()) std::cerr << "one phase: " << s << "\n";
    book.MarkAllWritten();
    const double one_ms = ms_since(t0), one_tail_ms = ms_since(computed);
    if (i >= 10) {  // the first ticks open connections
      two.push_back(two_ms);
      one.push_back(one_ms);
      two_tail.push_back(two_tail_ms);
      one_tail.push_back(one_tail_ms);
    }
  }
  row.two_p50 = Percentile(two, 0.5);
  row.two_p99 = Percentile(two, 0.99);
  row.one_p50 = Percentile(one, 0.5);
  row.one_p99 = Percentile(one, 0.99);
  row.two_tail_p50 = Percentile(two_tail, 0.5);
  row.one_tail_p50 = Percentile(one_tail, 0.5);
  return row;
}

int Main(int argc, char** argv) {
  std::string symbols_list = "100,1000,10000", json_path;
  int64_t ticks = 300;
  cli::FlagSet flags("cluster_tick", "Measures the engine's loop tick on a private 3-master Redis Cluster.");
  flags.AddString("symbols", &symbols_list, "comma list of symbol counts");
  flags.AddInt("ticks", &ticks, 10, 1000000, "loop ticks timed per way");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  if (absl::Status s = cluster.Start(); !s.ok()) {
    std::cerr << "cluster_tick: cannot start the cluster: " << s << "\n";
    return 1;
  }
  std::vector<Row> rows;
  for (absl::string_view n : absl::StrSplit(symbols_list, ',')) {
    size_t count = 0;
    if (!absl::SimpleAtoi(n, &count) || count == 0) return flags.UsageError("bad --symbols");
    rows.push_back(Measure(cluster.config(), count, static_cast<int>(ticks)));
  }
  std::cout << "\nLoop tick on a Redis Cluster (3 masters on loopback), fold + compute + writes, ms\n"
               "| symbols | two phases P50 | P99 | one phase P50 | P99 | P50 cost | after compute: two phases P50 | one phase P50 |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<bench::JsonObject> json_rows;
  for (const Row& r : rows) {
    std::cout << absl::StrFormat("| %d | %.3f | %.3f | %.3f | %.3f | %+.3f | %.3f | %.3f |\n", r.symbols,
                                 r.two_p50, r.two_p99, r.one_p50, r.one_p99, r.two_p50 - r.one_p50,
                                 r.two_tail_p50, r.one_tail_p50);
    json_rows.emplace_back()
        .Int("symbols", static_cast<int64_t>(r.symbols))
        .Number("two_phase_p50_ms", r.two_p50).Number("two_phase_p99_ms", r.two_p99)
        .Number("one_phase_p50_ms", r.one_p50).Number("one_phase_p99_ms", r.one_p99)
        .Number("two_phase_after_compute_p50_ms", r.two_tail_p50)
        .Number("one_phase_after_compute_p50_ms", r.one_tail_p50);
  }
  return bench::WriteResults(
      "cluster_tick", json_path,
      bench::JsonObject().String("benchmark", "cluster_tick").Int("ticks", ticks).Array("rows", json_rows));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
