// physics-engine: folds market ticks per symbol, computes the physics vector
// and writes it to Redis every loop tick. See docs/SPEC.md and --help.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/cli/flags.h"
#include "engine/cli/redis_flags.h"
#include "engine/feed/csv_feed.h"
#include "engine/feed/partitioned_stream_feed.h"
#include "engine/feed/pubsub_feed.h"
#include "engine/feed/sim_feed.h"
#include "engine/feed/stream_feed.h"
#include "engine/feed/symbol_share.h"
#include "engine/log/log.h"
#include "engine/loop/cluster_writer.h"
#include "engine/loop/run_loop.h"
#include "engine/loop/state_writer.h"
#include "engine/loop/symbol_book.h"
#include "engine/redis/config.h"
#include "engine/redis/heartbeat.h"
#include "engine/redis/partition.h"
#include "engine/shutdown/shutdown_signal.h"

namespace physics {
namespace {

constexpr std::string_view kProgram = "physics-engine";

constexpr std::string_view kPubSubPrefix = "pubsub", kStreamPrefix = "stream";

// For "pubsub" / "pubsub:PATTERN" (and stream): the name after the colon, or
// `fallback` when there is none; nullopt when `feed` is another feed.
std::optional<std::string> FeedArgument(std::string_view feed, std::string_view kind,
                                        std::string_view fallback) {
  if (feed == kind) return std::string(fallback);
  if (feed.size() > kind.size() + 1 && feed.substr(0, kind.size()) == kind &&
      feed[kind.size()] == ':') {
    return std::string(feed.substr(kind.size() + 1));
  }
  return std::nullopt;
}

absl::Status CheckFeed(std::string_view feed) {
  if (feed == "sim" || (feed.substr(0, 4) == "csv:" && feed.size() > 4) ||
      FeedArgument(feed, kPubSubPrefix, "") || FeedArgument(feed, kStreamPrefix, "")) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("expected sim, csv:PATH, pubsub[:PATTERN] or stream[:KEY]");
}

int Main(int argc, char** argv) {
  log::SetProgram(kProgram);
  std::string redis_url = "", key_namespace = "", feed_spec = "sim", symbols = "100", shard_spec = "";
  double hz = 1, duration = 0, leader_lease = 0;
  int64_t window = 1000, seed = 42, snapshot_ttl = 60, state_ttl = 0, stream_grace_ms = 500;
  int64_t partitions = redis::kDefaultPartitions;

  cli::FlagSet flags(std::string(kProgram),
                     "Folds market ticks per symbol every 1/hz seconds, computes the 5-pillar "
                     "physics vector\nover a rolling window and writes it to Redis "
                     "(physics:state:{SYM}, market:snapshot:{SYM},\nPUBLISH state_update), one "
                     "pipeline per loop tick. With a redis-cluster:// URL each command goes to\n"
                     "its key's master and messages go out with SPUBLISH on the symbol's "
                     "partition channel\nstate_update:{TAG} (docs/SPEC.md §9).\n\nEnvironment: REDIS_URL, or REDIS_HOST/"
                     "REDIS_PORT/REDIS_DB/REDIS_PASSWORD; REDIS_NAMESPACE.\nFlags override the "
                     "environment.");
  cli::AddRedisFlags(flags, &redis_url, &key_namespace);
  flags.AddDouble("hz", &hz, 0.001, 10000, "loop ticks per second");
  flags.AddInt("window", &window, 2, 1'000'000, "observations kept per symbol");
  flags.AddChecked("feed", &feed_spec,
                   "where ticks come from: sim, csv:PATH, pubsub[:PATTERN] (JSON ticks, "
                   "default pattern market.tick.*) or stream[:KEY] (consumer group "
                   "physics-engine, default key market:ticks; with a redis-cluster:// URL or "
                   "--shard, one stream KEY:{TAG} per owned partition)",
                   CheckFeed);
  flags.AddChecked("symbols", &symbols, "sim feed: a count or a comma list like SPY,QQQ",
                   [](std::string_view v) { return feed::ParseSymbolsFlag(v).status(); });
  flags.AddInt("seed", &seed, 0, INT64_MAX, "sim feed: random seed");
  flags.AddInt("snapshot-ttl", &snapshot_ttl, 1, 365LL * 86400, "TTL of market:snapshot:{SYM}, seconds");
  flags.AddInt("state-ttl", &state_ttl, 0, 365LL * 86400,
               "TTL of physics:state:{SYM}, seconds; 0 keeps it forever");
  flags.AddInt("stream-grace-ms", &stream_grace_ms, 0, 3'600'000,
               "stream feed: once the stream is drained, close a loop tick this long after "
               "its bucket's end");
  flags.AddDouble("leader-lease", &leader_lease, 0, 3600,
                  "seconds; > 0 runs as one of several engines on the same feed (and --shard): "
                  "only the holder of the lease ops:leader:engine (ops:leader:engine:I/N with "
                  "--shard I/N) writes, the others stand by and take over when it lapses; on a "
                  "Redis Cluster every write is fenced on its master (docs/engine.md, \"Standby "
                  "and fencing\"); with --feed stream a standby follows the stream (each owned "
                  "partition stream) without consuming it; 0 writes unconditionally; else at least 0.1");
  flags.AddInt("partitions", &partitions, 1, redis::kMaxPartitions,
               "partitions of the symbol space (docs/SPEC.md §9): with a redis-cluster:// URL "
               "the sharded channels state_update:{TAG}, and what --shard splits; with a "
               "redis:// URL and no --shard it changes nothing. Every engine shard and bridge "
               "must use the same value");
  flags.AddString("shard", &shard_spec,
                  "I/N (0 <= I < N <= --partitions): run as shard I of N engines, computing and "
                  "writing only the symbols of the partitions p with p mod N = I (the sim feed "
                  "simulates only those, csv and pubsub drop the others' ticks); empty: every symbol");
  flags.AddDouble("duration", &duration, 0, 1e9, "stop after this many seconds; 0 runs until stopped");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;
  if (leader_lease > 0 && leader_lease < 0.1) {
    return flags.UsageError(absl::InvalidArgumentError(absl::StrCat(
        "invalid value '", leader_lease, "' for --leader-lease: expected 0 or 0.1 to 3600")));
  }

  absl::StatusOr<redis::Config> config = cli::ResolveRedisConfig(flags, redis_url, key_namespace);
  if (!config.ok()) return flags.UsageError(config.status());
  feed::Shard shard;
  if (!shard_spec.empty()) {
    absl::StatusOr<feed::Shard> parsed = feed::ParseShard(shard_spec, static_cast<int>(partitions));
    if (!parsed.ok()) {
      return flags.UsageError(absl::StrCat("invalid value '", shard_spec, "' for --shard: ",
                                           parsed.status().message()));
    }
    shard = *parsed;
  }
  const bool stream_feed = FeedArgument(feed_spec, kStreamPrefix, "").has_value();
  // One stream per partition (docs/engine.md, "### stream"): on a cluster,
  // and for engine shards, which own partitions.
  const bool partitioned_stream = stream_feed && (config->uses_cluster() || !shard.whole());
  const feed::SymbolShare share(redis::Partitioning(static_cast<int>(partitions)), shard);

  const double period = 1.0 / hz;
  // A connect attempt never holds a loop tick longer than its period (within
  // [50 ms, 1 s]); a write to a stalled Redis gives up after 1-5 s.
  const absl::Duration connect_timeout = absl::Seconds(std::clamp(period, 0.05, 1.0));
  const absl::Duration io_timeout = absl::Seconds(std::clamp(period, 1.0, 5.0));
  const std::string instance_id = redis::InstanceId();

  // A new feed each time a stream-feed engine starts over as a standby.
  const auto make_whole_feed = [&]() -> absl::StatusOr<std::unique_ptr<feed::Feed>> {
    if (feed_spec == "sim") {
      return std::make_unique<feed::SimFeed>(*feed::ParseSymbolsFlag(symbols),
                                             static_cast<uint64_t>(seed), share);
    }
    if (std::optional<std::string> pattern = FeedArgument(feed_spec, kPubSubPrefix, "market.tick.*")) {
      return std::make_unique<feed::PubSubFeed>(
          *config, feed::PubSubFeedOptions{.pattern = *pattern, .connect_timeout = connect_timeout});
    }
    if (std::optional<std::string> key = FeedArgument(feed_spec, kStreamPrefix, "market:ticks")) {
      feed::StreamFeedOptions options{.key = *key,
                                      .consumer = instance_id,
                                      .hz = hz,
                                      .grace = absl::Milliseconds(stream_grace_ms),
                                      .connect_timeout = connect_timeout,
                                      .io_timeout = io_timeout + absl::Seconds(1),
                                      .follow = leader_lease > 0,
                                      .claim_idle = absl::Seconds(leader_lease)};
      if (!partitioned_stream) return std::make_unique<feed::StreamFeed>(*config, std::move(options));
      const redis::Partitioning parts(static_cast<int>(partitions));
      std::vector<int> owned;
      for (int p = 0; p < parts.count(); ++p) {
        if (redis::ShardOwns(shard.index, shard.count, p)) owned.push_back(p);
      }
      return std::make_unique<feed::PartitionedStreamFeed>(*config, std::move(options), parts, owned);
    }
    absl::StatusOr<std::unique_ptr<feed::CsvFeed>> csv = feed::CsvFeed::Open(feed_spec.substr(4), hz);
    if (!csv.ok()) return csv.status();
    return std::unique_ptr<feed::Feed>(*std::move(csv));
  };
  const auto make_feed = [&]() -> absl::StatusOr<std::unique_ptr<feed::Feed>> {
    absl::StatusOr<std::unique_ptr<feed::Feed>> whole = make_whole_feed();
    if (!whole.ok() || shard.whole() || feed_spec == "sim") return whole;
    return std::make_unique<feed::ShareFeed>(*std::move(whole), share);
  };
  absl::StatusOr<std::unique_ptr<feed::Feed>> feed = make_feed();
  if (!feed.ok()) return flags.UsageError(feed.status());

  loop::WriterOptions writer_options;
  writer_options.snapshot_ttl_seconds = snapshot_ttl;
  writer_options.state_ttl_seconds = state_ttl;
  writer_options.connect_timeout = connect_timeout;
  writer_options.io_timeout = io_timeout;
  writer_options.heartbeat_id = instance_id;
  if (!shard.whole()) writer_options.heartbeat_value = absl::StrCat("shard ", shard.ToString());
  writer_options.leader_lease = absl::Seconds(leader_lease);
  if (!shard.whole()) writer_options.shard = shard.ToString();
  // The stream feed acknowledges its entries once they are written, so it
  // needs every reply read first (docs/engine.md, "Writing to Redis").
  writer_options.late_replies = !stream_feed && leader_lease == 0;

  shutdown::ShutdownSignal shutdown;
  auto book = std::make_unique<loop::SymbolBook>(static_cast<size_t>(window), config->Key(""));
  std::unique_ptr<loop::Writer> writer;
  if (config->uses_cluster()) {
    writer = std::make_unique<loop::ClusterWriter>(*config, writer_options, static_cast<int>(partitions));
  } else {
    writer = std::make_unique<loop::StateWriter>(*config, writer_options);
  }
  log::Info(absl::StrCat("starting: feed ", feed_spec, ", ", hz, " Hz, window ", window,
                         shard.whole() ? "" : absl::StrCat(", shard ", shard.ToString()),
                         config->uses_cluster() ? absl::StrCat(", ", partitions, " partitions") : "",
                         ", Redis ", cli::DescribeTarget(*config)));
  loop::LoopOptions loop_options;
  loop_options.hz = hz;
  loop_options.duration_seconds = duration;
  // A stream-feed standby follows the stream without consuming it and joins
  // the group when it takes over (docs/engine.md, "Standby and fencing").
  loop_options.feed_continues_seq = leader_lease > 0 && stream_feed;
  while (true) {
    const int code = loop::RunLoop(**feed, *book, *writer, loop_options, shutdown);
    if (code != loop::kLeaseLost) return code;
    feed = make_feed();
    if (!feed.ok()) return 1;
    book = std::make_unique<loop::SymbolBook>(static_cast<size_t>(window), config->Key(""));
  }
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) { return physics::Main(argc, argv); }
