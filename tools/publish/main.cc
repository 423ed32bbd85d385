// physics-publish: sends ticks to the engine's live feeds, for demos, load
// and fault tests. Ticks come from the engine's simulator (--symbols, --seed)
// or a CSV file (--csv); they go to pub/sub or the stream (--to).
//
//   physics-publish --to stream --rate 500 --symbols 20 --duration 60
//   physics-publish --to pubsub --csv ticks.csv --rate 0
//   physics-publish --to stream --partitions 24 --csv ticks.csv   # for --shard engines
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/cli/flags.h"
#include "engine/cli/redis_flags.h"
#include "engine/log/log.h"
#include "engine/redis/partition.h"
#include "engine/shutdown/shutdown_signal.h"
#include "tools/publish/publisher.h"
#include "tools/publish/tick_source.h"

namespace physics::publish {
namespace {

constexpr std::string_view kProgram = "physics-publish";
constexpr size_t kMaxBatch = 1000;
using Clock = std::chrono::steady_clock;

int Main(int argc, char** argv) {
  log::SetProgram(kProgram);
  std::string redis_url, key_namespace, to = "stream", symbols = "10", csv;
  double rate = 1000, duration = 0;
  int64_t count = 0, seed = 42, invalid_every = 0, partitions = 0;

  cli::FlagSet flags(std::string(kProgram),
                     "Publishes market ticks for physics-engine's live feeds: JSON on "
                     "market.tick.{SYM} (--feed pubsub)\nor entries of the market:ticks stream "
                     "(--feed stream). Ticks come from the engine's simulator or a CSV\nfile "
                     "(timestamp,symbol,price,size,trades,bid,ask). Stops at --count, --duration, "
                     "the end of\n--csv, or SIGINT/SIGTERM.\n\nPartitioned streams (docs/SPEC.md §9): "
                     "with a redis-cluster:// URL, or with --partitions P\non one server (for engines run "
                     "with --shard), --to stream[:KEY] writes each tick to its\nsymbol's partition stream "
                     "KEY:{TAG}, pipelined per master on a cluster. --to pubsub on a\ncluster: PUBLISH "
                     "through one master, which the cluster copies to every node (fine for an\nupstream "
                     "feed, not for the hot path).\n\nEnvironment: REDIS_URL, or "
                     "REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD; REDIS_NAMESPACE.");
  cli::AddRedisFlags(flags, &redis_url, &key_namespace);
  flags.AddChecked("to", &to, "pubsub[:CHANNEL_PREFIX] or stream[:KEY]",
                   [](std::string_view v) { return ParseTarget(v).status(); });
  flags.AddDouble("rate", &rate, 0, 10'000'000, "ticks per second; 0 sends as fast as possible");
  flags.AddChecked("symbols", &symbols, "simulator: a count or a comma list like SPY,QQQ",
                   [](std::string_view v) { return feed::ParseSymbolsFlag(v).status(); });
  flags.AddInt("seed", &seed, 0, INT64_MAX, "simulator: random seed");
  flags.AddString("csv", &csv, "replay this CSV file instead of simulating");
  flags.AddInt("count", &count, 0, INT64_MAX, "stop after this many ticks (not counting injected "
               "invalid ones); 0: no limit");
  flags.AddDouble("duration", &duration, 0, 1e9, "stop after this many seconds; 0: no limit");
  flags.AddInt("invalid-every", &invalid_every, 0, INT64_MAX,
               "after every N ticks send one invalid tick too (bad price, bad symbol, "
               "unparsable, missing price, in turn); 0: none");
  flags.AddInt("partitions", &partitions, 0, redis::kMaxPartitions,
               "--to stream: write partition streams KEY:{TAG} for this many partitions (the "
               "engines' --partitions); 0: one stream KEY on a redis:// URL, the default 24 "
               "partitions on a redis-cluster:// URL");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  absl::StatusOr<redis::Config> config = cli::ResolveRedisConfig(flags, redis_url, key_namespace);
  if (!config.ok()) return flags.UsageError(config.status());
  const Target target = *ParseTarget(to);
  if (config->uses_cluster() && partitions == 0) partitions = redis::kDefaultPartitions;

  std::unique_ptr<TickSource> source;
  if (!csv.empty()) {
    absl::StatusOr<std::unique_ptr<CsvTickSource>> opened = CsvTickSource::Open(csv);
    if (!opened.ok()) return flags.UsageError(opened.status());
    source = *std::move(opened);
  } else {
    source = std::make_unique<SimTickSource>(*feed::ParseSymbolsFlag(symbols), static_cast<uint64_t>(seed));
  }
  Publisher publisher(*config, target, invalid_every, static_cast<int>(partitions));
  shutdown::ShutdownSignal stop;

  const auto start = Clock::now();
  const auto stop_at = duration > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(duration))
                                    : Clock::time_point::max();
  int64_t taken = 0;
  bool exhausted = false;
  schema::Tick tick;
  while (!exhausted && !stop.requested() && Clock::now() < stop_at) {
    // Paced: as many ticks as the rate allows by now, in batches of at most
    // kMaxBatch; then sleep a little.
    size_t want = kMaxBatch;
    if (rate > 0) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const int64_t due = static_cast<int64_t>(elapsed * rate) + 1 - taken;
      want = static_cast<size_t>(std::clamp<int64_t>(due, 0, kMaxBatch));
    }
    for (size_t i = 0; i < want && (count == 0 || taken < count); ++i) {
      if (!source->Next(tick)) {
        exhausted = true;
        break;
      }
      publisher.Add(tick);
      ++taken;
    }
    if (count > 0 && taken >= count) exhausted = true;
    if (!publisher.Send(stop)) break;
    if (rate > 0 && want < kMaxBatch) stop.WaitUntil(Clock::now() + std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log::Info(absl::StrCat("published ", publisher.published(), " ticks and ", publisher.invalid(),
                            " invalid ones to ", publisher.Describe(), " in ", seconds, " s"));
  return publisher.queued() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace physics::publish

int main(int argc, char** argv) { return physics::publish::Main(argc, argv); }
