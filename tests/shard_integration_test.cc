// Engine shards (--shard I/N, docs/SPEC.md §9) end to end: real engines
// writing to a real redis-server; each writes its share of the symbols and
// together they write every symbol.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

using testing::Eventually;
using testing::Process;
using testing::RedisServer;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kPublish = PHYSICS_PUBLISH_BIN;

// SYM0001 ... SYM00NN after the 40 well-known tickers: what --symbols N simulates.
std::set<std::string> SymbolsOf(const RedisServer& server, std::string_view ns = "") {
  std::set<std::string> out;
  const std::string prefix = std::string(ns) + "physics:state:";
  for (const std::string& key : testing::Keys(server, prefix + "*")) out.insert(key.substr(prefix.size()));
  return out;
}

std::set<std::string> Share(const std::set<std::string>& symbols, int index, int count, int partitions) {
  const redis::Partitioning parts(partitions);
  std::set<std::string> out;
  for (const std::string& s : symbols) {
    if (redis::ShardOwns(index, count, parts.Of(s))) out.insert(s);
  }
  return out;
}

Process Spawn(const char* program, const RedisServer& server, std::vector<std::string> args,
              testing::EnvVars env = {}) {
  return testing::SpawnWithRedis(program, server.url(), std::move(args), std::move(env)).value();
}

// The symbols one engine writes with --symbols 200 (sim, seed 42).
std::set<std::string> AllSymbols(const RedisServer& server) {
  Process whole = Spawn(kEngine, server, {"--symbols", "200", "--hz", "20", "--duration", "0.3"},
                        {{"REDIS_NAMESPACE", "whole"}});
  EXPECT_EQ(whole.Wait(absl::Seconds(10))->exit_code, 0) << whole.ReadStderr();
  return SymbolsOf(server, "whole:");
}

TEST(EngineShards, EachWritesItsShareAndTogetherEverySymbolOnOneServer) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const std::set<std::string> all = AllSymbols(server);
  ASSERT_EQ(all.size(), 200u);
  const std::set<std::string> share0 = Share(all, 0, 2, redis::kDefaultPartitions);
  ASSERT_GT(share0.size(), 50u);

  Process first = Spawn(kEngine, server, {"--symbols", "200", "--hz", "20", "--shard", "0/2"});
  ASSERT_TRUE(Eventually([&] { return SymbolsOf(server) == share0; }).ok())
      << SymbolsOf(server).size() << " symbols written\n" << first.ReadStderr();
  const std::vector<std::string> beats = testing::Keys(server, "ops:hb:engine:*");
  ASSERT_EQ(beats.size(), 1u);
  EXPECT_EQ(testing::Get(server, beats[0]), "shard 0/2");

  Process second = Spawn(kEngine, server, {"--symbols", "200", "--hz", "20", "--shard", "1/2"});
  ASSERT_TRUE(Eventually([&] { return SymbolsOf(server) == all; }).ok())
      << SymbolsOf(server).size() << " symbols written\n" << second.ReadStderr();
  // One heartbeat per shard.
  EXPECT_EQ(testing::Keys(server, "ops:hb:engine:*").size(), 2u);
}

TEST(EngineShards, PubSubShardFoldsOnlyItsShare) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const std::vector<std::string> symbols = {"SPY", "QQQ", "IWM", "DIA", "AAPL", "MSFT", "NVDA", "AMZN"};
  const std::set<std::string> all(symbols.begin(), symbols.end());
  const std::set<std::string> share1 = Share(all, 1, 2, 4);
  ASSERT_FALSE(share1.empty());
  ASSERT_NE(share1, all);
  Process engine = Spawn(kEngine, server, {"--feed", "pubsub", "--hz", "10", "--partitions", "4",
                                           "--shard", "1/2"});
  ASSERT_TRUE(Eventually([&] { return server.Integer({"PUBSUB", "NUMPAT"}) == 1; }, absl::Seconds(5)).ok())
      << engine.ReadStderr();
  std::string list;
  for (const std::string& s : symbols) absl::StrAppend(&list, list.empty() ? "" : ",", s);
  Process publisher = Spawn(kPublish, server, {"--to", "pubsub", "--symbols", list, "--rate", "400",
                                               "--duration", "1"});
  ASSERT_EQ(publisher.Wait(absl::Seconds(10))->exit_code, 0) << publisher.ReadStderr();
  ASSERT_TRUE(Eventually([&] { return SymbolsOf(server) == share1; }).ok())
      << SymbolsOf(server).size() << " symbols written\n" << engine.ReadStderr();
}

TEST(EngineShardFlags, BadValuesAndUnsupportedCombinationsGiveOneLineAndExitTwo) {
  // Nothing listens there: every case is refused before Redis is contacted.
  const auto spawn = [](std::vector<std::string> args) {
    return testing::SpawnWithRedis(kEngine, "redis://127.0.0.1:1", std::move(args)).value();
  };
  const std::vector<std::vector<std::string>> bad = {
      {"--shard", "2/2"},
      {"--shard", "0/25"},
      {"--shard", "1"},
      {"--shard", "a/b"},
      {"--partitions", "0"},
      {"--partitions", "1025"},
      {"--partitions", "4", "--shard", "0/5"},
      {"--shard", "0/2", "--leader-lease", "1"},
      {"--shard", "0/2", "--feed", "stream"},
      {"--redis-url", "redis-cluster://127.0.0.1:1", "--leader-lease", "1"},
      {"--redis-url", "redis-cluster://127.0.0.1:1", "--feed", "stream"},
  };
  for (const auto& args : bad) {
    Process p = spawn(args);
    absl::StatusOr<testing::ExitStatus> st = p.Wait(absl::Seconds(5));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->exit_code, 2) << absl::StrJoin(args, " ");
    const std::string err = p.ReadStderr();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("physics-engine: ", 0), 0u) << err;
  }
  Process p = spawn({"--shard", "0/5", "--partitions", "4"});
  ASSERT_EQ(p.Wait(absl::Seconds(5))->exit_code, 2);
  EXPECT_EQ(p.ReadStderr(), "physics-engine: invalid value '0/5' for --shard: expected I/N with "
                            "0 <= I < N <= 4 (the partitions), e.g. 0/2\n");
  Process lease = spawn({"--redis-url", "redis-cluster://127.0.0.1:1", "--leader-lease", "1"});
  ASSERT_EQ(lease.Wait(absl::Seconds(5))->exit_code, 2);
  EXPECT_NE(lease.ReadStderr().find("--leader-lease is not supported with redis-cluster:// yet"),
            std::string::npos);
}

TEST(EngineShardFlags, HelpListsShardAndPartitions) {
  absl::StatusOr<Process> p = Process::Spawn(testing::ProcessOptions{.argv = {kEngine, "--help"}});
  ASSERT_EQ(p->Wait(absl::Seconds(5))->exit_code, 0);
  const std::string out = p->ReadStdout();
  EXPECT_NE(out.find("--shard"), std::string::npos);
  EXPECT_NE(out.find("--partitions"), std::string::npos);
  EXPECT_NE(out.find("redis-cluster://"), std::string::npos);
}

}  // namespace
}  // namespace physics
