// How often this machine takes a CPU away from a thread that wants to run:
// one thread per CPU spins on the clock for --seconds and records every gap
// (time it did not run: the hypervisor running another guest, an interrupt,
// another task). Run it on an otherwise idle machine, before the end-to-end
// benchmark: a gap of several milliseconds that lands inside a tick's burst
// stalls that burst (engine, Redis, bridge and client are one chain of
// threads), so the gaps bound the P99 any implementation can show here.
//
//   build/bin/cpu_gaps                 # 10 s on every CPU
//   build/bin/cpu_gaps --seconds 30 --json bench/results/cpu_gaps.json
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"

namespace physics {
namespace {

using Clock = std::chrono::steady_clock;

// Gap size classes, in ms: a gap counts in the first class whose bound it is
// below. Gaps under 0.1 ms (an interrupt, a timer) are not counted.
constexpr double kMinGapMs = 0.1;
constexpr std::array<double, 6> kBoundsMs = {0.5, 1, 2, 5, 10, 1e300};
constexpr std::array<const char*, 6> kClassNames = {"0.1-0.5", "0.5-1", "1-2", "2-5", "5-10", ">=10"};

struct CpuGaps {
  std::array<int64_t, kBoundsMs.size()> counts{};
  double lost_ms = 0;  // sum of the counted gaps
  double worst_ms = 0;
};

CpuGaps Spin(Clock::duration length) {
  CpuGaps g;
  const auto end = Clock::now() + length;
  auto last = Clock::now();
  for (;;) {
    const auto now = Clock::now();
    const double gap = std::chrono::duration<double, std::milli>(now - last).count();
    last = now;
    if (gap >= kMinGapMs) {
      size_t c = 0;
      while (gap >= kBoundsMs[c]) ++c;
      ++g.counts[c];
      g.lost_ms += gap;
      g.worst_ms = std::max(g.worst_ms, gap);
    }
    if (now >= end) return g;
  }
}

int Main(int argc, char** argv) {
  double seconds = 10;
  std::string json_path;
  cli::FlagSet flags("cpu_gaps",
                     "Spins one thread per CPU and counts the gaps in which it did not run: "
                     "this machine's scheduling noise, the context for every latency figure.");
  flags.AddDouble("seconds", &seconds, 0.1, 3600, "how long to spin");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::vector<CpuGaps> results(cpus);
  std::vector<std::thread> threads;
  const auto length = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (unsigned i = 0; i < cpus; ++i) threads.emplace_back([&, i] { results[i] = Spin(length); });
  for (std::thread& t : threads) t.join();

  std::string header = "| thread |";
  std::string rule = "|---|";
  for (const char* name : kClassNames) {
    absl::StrAppend(&header, " gaps ", name, " ms |");
    absl::StrAppend(&rule, "---:|");
  }
  std::cout << absl::StrFormat("Gaps in %u spinning threads over %.0f s (time a thread did not run)\n\n",
                               cpus, seconds)
            << header << " worst ms | lost ms |\n" << rule << "---:|---:|\n";
  std::vector<bench::JsonObject> json_threads;
  for (unsigned i = 0; i < cpus; ++i) {
    const CpuGaps& g = results[i];
    std::string row = absl::StrCat("| ", i, " |");
    bench::JsonObject counts;
    for (size_t c = 0; c < g.counts.size(); ++c) {
      absl::StrAppend(&row, " ", g.counts[c], " |");
      counts.Int(kClassNames[c], g.counts[c]);
    }
    std::cout << row << absl::StrFormat(" %.2f | %.1f |\n", g.worst_ms, g.lost_ms);
    json_threads.emplace_back().Object("gaps", counts).Number("worst_ms", g.worst_ms).Number("lost_ms", g.lost_ms);
  }
  return bench::WriteResults("cpu_gaps", json_path,
                             bench::JsonObject().Number("seconds", seconds).Array("threads", json_threads));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
