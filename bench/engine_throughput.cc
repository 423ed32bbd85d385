// The real physics-engine binary against redis-cli --pipe on one private
// redis-server: runs `physics-engine --feed sim --symbols N --hz HZ` (windows
// filled first), counts the symbol updates it lands per second (PUBLISH
// calls in INFO commandstats, one per update), then pipes the same command
// mix (StateWriter::AppendCommands) through `redis-cli --pipe`, and prints
// the ratio. Each engine is started and warmed up once, then paused
// (SIGSTOP) whenever it is not measured, so each run measures it for S
// seconds and then the pipe, R times, all within seconds of each other; with
// several engine binaries each run alternates through them (A/B with
// binaries copied aside). CPU per update of the engine, redis-server and
// redis-cli explains where a gap comes from.
//
//   build/bin/engine_throughput --seconds 5 --runs 5
//   build/bin/engine_throughput --engine /tmp/a/physics-engine,/tmp/b/physics-engine
#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/e2e/proc_sampler.h"
#include "bench/redis_limit.h"
#include "bench/results_json.h"
#include "engine/cli/flags.h"
#include "engine/loop/state_writer.h"
#include "engine/loop/symbol_book.h"
#include "tests/support/programs.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace physics {
namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  int64_t symbols = 1000;
  double hz = 1000;
  int64_t window = 1000;
  double seconds = 5;
  int64_t warmup_ticks = 0;  // loop ticks before measuring; default: the window
  int64_t pipe_updates = 250000;
};

// One engine run's measured window.
struct EngineFigures {
  double updates_per_sec = 0;
  double engine_cpu_us = 0;  // per update
  double redis_cpu_us = 0;
};

struct PipeFigures {
  double updates_per_sec = 0;
  double client_cpu_us = 0;  // redis-cli, per update
  double redis_cpu_us = 0;
};

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Waits until Redis has executed every command sent so far (the PUBLISH
// count stops moving), e.g. after an engine was paused mid-write.
void WaitUntilQuiet(const testing::RedisServer& server) {
  int64_t last = -1;
  for (int64_t now = bench::CommandCalls(server, "publish"); now != last;
       now = bench::CommandCalls(server, "publish")) {
    last = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// One physics-engine process, warmed up once and then paused (SIGSTOP)
// whenever it is not being measured, so that the engines and redis-cli take
// turns within seconds of each other without paying the warm-up each time.
class PausedEngine {
 public:
  // Starts `binary`, waits until it has written `settings.warmup_ticks` loop
  // ticks (so its windows are full, as in steady state), and pauses it.
  static absl::StatusOr<PausedEngine> Start(const testing::RedisServer& server,
                                            const std::string& binary, const Settings& settings) {
    absl::StatusOr<testing::Process> proc = testing::SpawnWithRedis(
        binary, server.url(),
        {"--feed", "sim", "--symbols", absl::StrCat(settings.symbols), "--hz",
         absl::StrCat(settings.hz), "--window", absl::StrCat(settings.window)});
    if (!proc.ok()) return proc.status();
    const int64_t warm = bench::CommandCalls(server, "publish") + settings.warmup_ticks * settings.symbols;
    const auto give_up = Clock::now() + std::chrono::minutes(5);
    while (bench::CommandCalls(server, "publish") < warm) {
      if (!proc->running() || Clock::now() > give_up) {
        return absl::InternalError(absl::StrCat("engine did not warm up: ", proc->ReadStderr()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    PausedEngine engine(*std::move(proc));
    if (absl::Status s = engine.Pause(server); !s.ok()) return s;
    return engine;
  }

  // Resumes the engine, lets it settle, measures `seconds` and pauses it again.
  absl::StatusOr<EngineFigures> Measure(const testing::RedisServer& server, double seconds) {
    if (absl::Status s = proc_.Signal(SIGCONT); !s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int64_t calls0 = bench::CommandCalls(server, "publish");
    const double cpu0 = bench::e2e::ProcessCpuSeconds(proc_.pid());
    const double redis0 = bench::RedisCpuSeconds(server);
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const int64_t calls1 = bench::CommandCalls(server, "publish");
    const double cpu1 = bench::e2e::ProcessCpuSeconds(proc_.pid());
    const double redis1 = bench::RedisCpuSeconds(server);
    const double elapsed = SecondsSince(t0);
    if (absl::Status s = Pause(server); !s.ok()) return s;
    const double updates = static_cast<double>(calls1 - calls0);
    if (updates <= 0) return absl::InternalError("engine wrote nothing in the measured window");
    return EngineFigures{.updates_per_sec = updates / elapsed,
                         .engine_cpu_us = (cpu1 - cpu0) * 1e6 / updates,
                         .redis_cpu_us = (redis1 - redis0) * 1e6 / updates};
  }

  // Resumes and stops the engine (SIGTERM); an error unless it exits 0.
  absl::Status Stop() {
    proc_.Signal(SIGCONT).IgnoreError();
    const testing::ExitStatus exit = proc_.Terminate();
    if (exit.success()) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("engine ended with ", exit.ToString(), ": ", proc_.ReadStderr()));
  }

 private:
  explicit PausedEngine(testing::Process proc) : proc_(std::move(proc)) {}

  absl::Status Pause(const testing::RedisServer& server) {
    if (absl::Status s = proc_.Signal(SIGSTOP); !s.ok()) return s;
    WaitUntilQuiet(server);
    return absl::OkStatus();
  }

  testing::Process proc_;
};

// Writes the engine's command mix for at least `settings.pipe_updates` symbol
// updates to `path` (windows filled first, like the engine's in steady state);
// returns how many updates it holds.
int64_t WriteCommandMix(const testing::RedisServer& server, const Settings& settings,
                        const std::string& path) {
  constexpr int kDistinctTicks = 16;
  auto bursts = bench::RecordBursts(static_cast<size_t>(settings.symbols), 64);
  loop::SymbolBook book(static_cast<size_t>(settings.window), "");
  loop::StateWriter writer(server.config(), loop::WriterOptions{});
  int64_t next = 0;
  const auto close_tick = [&] {
    for (schema::Tick& t : bursts[static_cast<size_t>(next) % bursts.size()]) {
      t.timestamp = 1766318400LL * 1'000'000 + next * 1000;
      book.Accept(t);
    }
    ++next;
    return static_cast<int64_t>(book.CloseTick());
  };
  for (int64_t i = 0; i < settings.window; ++i) {
    close_tick();
    book.MarkAllWritten();
  }
  std::vector<std::string> ticks;
  int64_t updates_per_round = 0;
  for (int i = 0; i < kDistinctTicks; ++i) {
    updates_per_round += close_tick();
    redis::Pipeline pipeline;
    writer.AppendCommands(book, pipeline);
    book.MarkAllWritten();
    ticks.emplace_back(pipeline.buffer());
  }
  std::ofstream out(path, std::ios::binary);
  int64_t written = 0;
  while (written < settings.pipe_updates) {
    for (const std::string& t : ticks) out << t;
    written += updates_per_round;
  }
  return written;
}

struct Sample {
  EngineFigures engine;
  PipeFigures pipe;
  double ratio() const {
    return pipe.updates_per_sec > 0 ? engine.updates_per_sec / pipe.updates_per_sec : 0;
  }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int Main(int argc, char** argv) {
  Settings settings;
  int64_t runs = 3;
  std::string engines, json_path;
  cli::FlagSet flags("engine_throughput",
                     "Runs physics-engine (sim feed) against a private redis-server and compares "
                     "the symbol updates/s it lands with redis-cli --pipe pushing the same "
                     "commands, alternately.");
  flags.AddInt("symbols", &settings.symbols, 1, 100000, "the engine's --symbols");
  flags.AddDouble("hz", &settings.hz, 0.1, 10000, "the engine's --hz");
  flags.AddInt("window", &settings.window, 2, 100000, "the engine's --window");
  flags.AddDouble("seconds", &settings.seconds, 0.5, 600, "measured time per engine run");
  flags.AddInt("runs", &runs, 1, 100, "alternated engine / pipe runs");
  flags.AddInt("warmup-ticks", &settings.warmup_ticks, 0, 1000000,
               "loop ticks the engine writes before the measurement; default: --window (full windows)");
  flags.AddInt("pipe-updates", &settings.pipe_updates, 1000, 100000000,
               "symbol updates in the redis-cli --pipe file");
  flags.AddString("engine", &engines,
                  "comma list of physics-engine binaries, alternated within each run; default: "
                  "the one beside this program");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if (!flags.WasSet("warmup-ticks")) settings.warmup_ticks = settings.window;
  if (engines.empty()) {
    const std::string self = argv[0];
    const size_t slash = self.rfind('/');
    engines = (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/physics-engine";
  }
  const std::vector<std::string> binaries = absl::StrSplit(engines, ',');

  testing::RedisServer server;
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << "engine_throughput: cannot start redis-server: " << s << "\n";
    return 1;
  }
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("engine-throughput-");
  if (!dir.ok()) {
    std::cerr << "engine_throughput: " << dir.status() << "\n";
    return 1;
  }
  const std::string resp_path = dir->File("mix.resp");
  const int64_t pipe_updates = WriteCommandMix(server, settings, resp_path);

  std::vector<PausedEngine> running;
  for (const std::string& binary : binaries) {
    absl::StatusOr<PausedEngine> engine = PausedEngine::Start(server, binary, settings);
    if (!engine.ok()) {
      std::cerr << "engine_throughput: " << binary << ": " << engine.status() << "\n";
      return 1;
    }
    running.push_back(*std::move(engine));
  }
  std::vector<std::vector<Sample>> samples(binaries.size());
  std::cout << "| run | engine | engine updates/s | redis-cli --pipe updates/s | ratio | engine CPU µs/update | redis CPU µs/update (engine) | redis CPU µs/update (pipe) | redis-cli CPU µs/update |\n"
               "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (int64_t run = 1; run <= runs; ++run) {
    for (size_t e = 0; e < binaries.size(); ++e) {
      absl::StatusOr<EngineFigures> engine = running[e].Measure(server, settings.seconds);
      if (!engine.ok()) {
        std::cerr << "engine_throughput: " << binaries[e] << ": " << engine.status() << "\n";
        return 1;
      }
      const bench::PipeRun pipe = bench::PipeFile(server, resp_path);
      if (!pipe.ok) return 1;
      const double n = static_cast<double>(pipe_updates);
      Sample s{.engine = *engine,
               .pipe = {.updates_per_sec = n / pipe.seconds,
                        .client_cpu_us = pipe.client_cpu_seconds * 1e6 / n,
                        .redis_cpu_us = pipe.redis_cpu_seconds * 1e6 / n}};
      samples[e].push_back(s);
      std::cout << absl::StrFormat("| %d | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", run,
                                   binaries[e], s.engine.updates_per_sec, s.pipe.updates_per_sec,
                                   s.ratio(), s.engine.engine_cpu_us, s.engine.redis_cpu_us,
                                   s.pipe.redis_cpu_us, s.pipe.client_cpu_us)
                << std::flush;
    }
  }
  for (size_t e = 0; e < binaries.size(); ++e) {
    if (absl::Status s = running[e].Stop(); !s.ok()) {
      std::cerr << "engine_throughput: " << binaries[e] << ": " << s << "\n";
      return 1;
    }
  }

  std::cout << absl::StrFormat(
      "\nphysics-engine --feed sim --symbols %d --hz %g --window %d vs redis-cli --pipe, %d runs "
      "of %g s: median (min–max)\n",
      settings.symbols, settings.hz, settings.window, runs, settings.seconds);
  std::vector<bench::JsonObject> json_rows;
  for (size_t e = 0; e < binaries.size(); ++e) {
    const auto& v = samples[e];
    const auto spread = [&](auto field) {
      std::vector<double> x;
      for (const Sample& s : v) x.push_back(field(s));
      const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
      return std::array<double, 3>{Median(x), *lo, *hi};
    };
    const auto ratio = spread([](const Sample& s) { return s.ratio(); });
    const auto eng = spread([](const Sample& s) { return s.engine.updates_per_sec; });
    const auto pipe = spread([](const Sample& s) { return s.pipe.updates_per_sec; });
    const auto cpu = spread([](const Sample& s) { return s.engine.engine_cpu_us; });
    std::cout << absl::StrFormat(
        "%s: ratio %.2f (%.2f–%.2f); engine %.0f (%.0f–%.0f) updates/s; pipe %.0f (%.0f–%.0f) "
        "updates/s; engine CPU %.2f (%.2f–%.2f) µs/update\n",
        binaries[e], ratio[0], ratio[1], ratio[2], eng[0], eng[1], eng[2], pipe[0], pipe[1],
        pipe[2], cpu[0], cpu[1], cpu[2]);
    json_rows.emplace_back()
        .String("engine", binaries[e])
        .Number("ratio_median", ratio[0]).Number("ratio_min", ratio[1]).Number("ratio_max", ratio[2])
        .Number("engine_updates_per_sec_median", eng[0])
        .Number("pipe_updates_per_sec_median", pipe[0])
        .Number("engine_cpu_us_median", cpu[0]);
  }
  return bench::WriteResults("engine_throughput", json_path,
                             bench::JsonObject()
                                 .String("benchmark", "engine_throughput")
                                 .Int("symbols", settings.symbols)
                                 .Number("hz", settings.hz)
                                 .Int("window", settings.window)
                                 .Number("seconds", settings.seconds)
                                 .Int("runs", runs)
                                 .Array("rows", json_rows));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
