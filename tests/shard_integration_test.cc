// Engine shards (--shard I/N) and the engine on a Redis Cluster
// (docs/SPEC.md §9) end to end: real engines writing to a real redis-server
// or a ClusterSet (3 masters + 3 replicas); each shard writes its share of the
// symbols and together they write every symbol.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/feed/sim_feed.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/support/cluster_set.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"
#include "tests/support/sharded_subscriber.h"

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
      {"--shard", "0/2", "--feed", "stream", "--leader-lease", "0.01"},
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
}

// A redis:// URL that reaches a cluster node: one line naming the fix, exit
// 2, instead of retrying (or a stream of MOVED errors) forever.
TEST(EngineOnCluster, ARedisUrlReachingAClusterNodeStopsWithOneLine) {
  RedisServer node(testing::RedisServerOptions{.cluster_enabled = true});
  ASSERT_TRUE(node.Start().ok());
  Process p = testing::SpawnWithRedis(kEngine, node.url(), {"--duration", "30"}).value();
  absl::StatusOr<testing::ExitStatus> st = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->exit_code, 2);
  const std::string err = p.ReadStderr();
  EXPECT_NE(err.find(absl::StrCat("is a Redis Cluster node: use redis-cluster://127.0.0.1:", node.port())),
            std::string::npos)
      << err;
}

TEST(EngineShardFlags, HelpListsShardAndPartitions) {
  absl::StatusOr<Process> p = Process::Spawn(testing::ProcessOptions{.argv = {kEngine, "--help"}});
  ASSERT_EQ(p->Wait(absl::Seconds(5))->exit_code, 0);
  const std::string out = p->ReadStdout();
  EXPECT_NE(out.find("--shard"), std::string::npos);
  EXPECT_NE(out.find("--partitions"), std::string::npos);
  EXPECT_NE(out.find("redis-cluster://"), std::string::npos);
}

// The state a message carries: its "data" without the leading "alpha" alias
// (docs/SPEC.md §3), i.e. the stored physics:state:{SYM} byte for byte.
std::string StateOfMessage(std::string_view message) {
  constexpr std::string_view kData = "\"data\":{\"alpha\":";
  const size_t data = message.find(kData);
  if (data == std::string_view::npos || message.empty() || message.back() != '}') return "";
  const size_t comma = message.find(',', data + kData.size());
  if (comma == std::string_view::npos) return "";
  return "{" + std::string(message.substr(comma + 1, message.size() - 1 - (comma + 1)));
}

// CLUSTER INFO's cluster_stats_messages_publish_sent summed over the nodes:
// what PUBLISH costs a cluster (every message copied to every node).
int64_t PublishesSentOnTheBus(testing::ClusterSet& cluster) {
  int64_t sum = 0;
  for (size_t i = 0; i < cluster.node_count(); ++i) {
    absl::StatusOr<redis::Reply> info = cluster.node(i).Run({"CLUSTER", "INFO"});
    if (!info.ok()) continue;
    const std::string sent = testing::InfoField(redis::ReplyText(info->get()), "cluster_stats_messages_publish_sent");
    if (!sent.empty()) sum += std::stoll(sent);
  }
  return sum;
}

// The node serving `key` as master now.
const RedisServer* MasterFor(testing::ClusterSet& cluster, std::string_view key) {
  absl::StatusOr<size_t> node = cluster.MasterOf(redis::KeySlot(key));
  return node.ok() ? &cluster.node(*node) : nullptr;
}

int64_t ClusterStateSeq(testing::ClusterSet& cluster, const std::string& symbol) {
  const RedisServer* node = MasterFor(cluster, "physics:state:" + symbol);
  return node == nullptr ? 0 : testing::StateSeq(*node, symbol);
}

Process SpawnOnCluster(testing::ClusterSet& cluster, std::vector<std::string> args) {
  return testing::SpawnWithRedis(kEngine, cluster.url(), std::move(args)).value();
}

TEST(EngineOnCluster, TwoShardsWriteEveryStateAndPublishEachMessageOnItsPartitionOnly) {
  testing::ClusterSet cluster;
  ASSERT_TRUE(cluster.Start().ok());
  const redis::Partitioning parts(redis::kDefaultPartitions);
  const std::vector<std::string> symbols = feed::DefaultSymbols(200);
  testing::ShardedSubscriber subscriber(cluster, parts);
  const int64_t bus_before = PublishesSentOnTheBus(cluster);

  const std::vector<std::string> args = {"--symbols", "200", "--hz", "20"};
  std::vector<std::string> a0 = args, a1 = args;
  a0.insert(a0.end(), {"--shard", "0/2"});
  a1.insert(a1.end(), {"--shard", "1/2"});
  Process first = SpawnOnCluster(cluster, a0);
  Process second = SpawnOnCluster(cluster, a1);
  // A few seconds of loop ticks: every symbol past seq 40.
  const absl::Status ran = Eventually([&]() -> absl::Status {
    for (const std::string& s : symbols) {
      if (const int64_t seq = ClusterStateSeq(cluster, s); seq < 40) {
        return absl::NotFoundError(absl::StrCat(s, "'s seq is ", seq));
      }
    }
    return absl::OkStatus();
  }, absl::Seconds(30));
  ASSERT_TRUE(ran.ok()) << ran << first.ReadStderr() << second.ReadStderr();
  for (Process* p : {&first, &second}) {
    ASSERT_TRUE(p->Signal(SIGTERM).ok());
    absl::StatusOr<testing::ExitStatus> st = p->Wait(absl::Seconds(10));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->exit_code, 0) << p->ReadStderr();
  }
  // The last messages reach the subscriber after their EXEC: wait for them to settle.
  int64_t seen = -1;
  ASSERT_TRUE(Eventually([&] {
    const int64_t now = subscriber.count();
    const bool settled = now == seen;
    seen = now;
    return settled;
  }).ok());

  const std::map<std::string, std::vector<std::string>> messages = subscriber.messages();
  EXPECT_EQ(messages.size(), symbols.size());
  for (const std::string& s : symbols) {
    const auto it = messages.find(s);
    ASSERT_NE(it, messages.end()) << s << " had no message";
    for (size_t i = 0; i < it->second.size(); ++i) {
      ASSERT_EQ(testing::SeqOf(it->second[i]), static_cast<int64_t>(i + 1)) << s << ": seq not contiguous";
    }
    const RedisServer* node = MasterFor(cluster, "physics:state:" + s);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(testing::Get(*node, "physics:state:" + s), StateOfMessage(it->second.back())) << s;
  }
  // SPUBLISH stays on the channel's shard; a PUBLISH would be copied to every node.
  const int64_t bus_after = PublishesSentOnTheBus(cluster);
  EXPECT_EQ(bus_after, bus_before);
  // The counter sees a PUBLISH (Redis lists it only once non-zero): one, as a control.
  ASSERT_TRUE(cluster.node(0).Run({"PUBLISH", "state_update", "control"}).ok());
  EXPECT_TRUE(Eventually([&] { return PublishesSentOnTheBus(cluster) > bus_after; }).ok());
}

TEST(EngineOnCluster, PubSubFeedFoldsTicksPublishedOnAnyNode) {
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0});
  ASSERT_TRUE(cluster.Start().ok());
  Process engine = SpawnOnCluster(cluster, {"--feed", "pubsub", "--hz", "20", "--shard", "1/2",
                                            "--partitions", "4"});
  // The feed subscribes on one master; a PUBLISH on any node reaches it.
  ASSERT_TRUE(Eventually([&] {
    for (size_t i = 0; i < cluster.node_count(); ++i) {
      if (cluster.node(i).Integer({"PUBSUB", "NUMPAT"}) == 1) return true;
    }
    return false;
  }).ok()) << engine.ReadStderr();
  const std::vector<std::string> symbols = {"SPY", "QQQ", "IWM", "DIA", "AAPL", "MSFT"};
  const std::set<std::string> share1 = Share({symbols.begin(), symbols.end()}, 1, 2, 4);
  ASSERT_FALSE(share1.empty());
  ASSERT_LT(share1.size(), symbols.size());
  const absl::Status folded = Eventually([&]() -> absl::Status {
    for (size_t n = 0; n < cluster.node_count(); ++n) {
      for (const std::string& s : symbols) {
        const std::string tick = absl::StrCat(R"({"symbol":")", s, R"(","price":)", 100 + n, R"(,"size":10})");
        cluster.node(n).Run({"PUBLISH", "market.tick." + s, tick}).IgnoreError();
      }
    }
    std::set<std::string> written;
    for (const std::string& s : symbols) {
      if (ClusterStateSeq(cluster, s) > 0) written.insert(s);
    }
    if (written != share1) return absl::NotFoundError(absl::StrCat(written.size(), " symbols written"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(folded.ok()) << folded << engine.ReadStderr();
}

// Waits until every symbol of `written` is stored (seq 3 or more, on its
// master) and every symbol of `published` has come through `subscriber`.
absl::Status WrittenAndPublished(testing::ClusterSet& cluster, const std::vector<std::string>& written,
                                 testing::ShardedSubscriber& subscriber, const std::vector<std::string>& published) {
  return Eventually([&]() -> absl::Status {
    for (const std::string& s : written) {
      if (ClusterStateSeq(cluster, s) < 3) return absl::NotFoundError(s + " not written");
    }
    for (const std::string& s : published) {
      if (subscriber.messages()[s].empty()) return absl::NotFoundError(s + " not published");
    }
    return absl::OkStatus();
  }, absl::Seconds(30));
}

TEST(EngineOnCluster, StartsWhileAMasterIsDownAndWritesItsSymbolsOnceItIsBack) {
  // No replica to promote, full coverage off: the master stays down while
  // the others take writes.
  testing::ClusterSet cluster(testing::ClusterSetOptions{.replicas_per_master = 0, .require_full_coverage = false});
  ASSERT_TRUE(cluster.Start().ok());
  const std::vector<std::string> symbols = feed::DefaultSymbols(200);
  const redis::Partitioning parts(redis::kDefaultPartitions);
  absl::StatusOr<size_t> victim = cluster.MasterOf(redis::KeySlot("physics:state:SPY"));
  ASSERT_TRUE(victim.ok());
  std::vector<std::string> stalled, live, announced_live;  // announced: state and channel on live masters
  for (const std::string& s : symbols) {
    if (cluster.MasterOf(redis::KeySlot("physics:state:" + s)).value_or(*victim) == *victim) {
      stalled.push_back(s);
      continue;
    }
    live.push_back(s);
    if (cluster.MasterOf(parts.Slot(parts.Of(s))).value_or(*victim) != *victim) announced_live.push_back(s);
  }
  ASSERT_FALSE(stalled.empty());
  ASSERT_FALSE(announced_live.empty());
  cluster.node(*victim).Kill();

  testing::ShardedSubscriber subscriber(cluster, parts);  // on the two live masters
  Process engine = SpawnOnCluster(cluster, {"--symbols", "200", "--hz", "20"});
  const absl::Status written = WrittenAndPublished(cluster, live, subscriber, announced_live);
  ASSERT_TRUE(written.ok()) << written << engine.ReadStderr();
  EXPECT_TRUE(engine.running()) << engine.ReadStderr();
  EXPECT_NE(engine.ReadStderr().find("1 of 3 masters unreachable at start"), std::string::npos)
      << engine.ReadStderr();

  // Back on its port: its symbols are written and published too.
  ASSERT_TRUE(cluster.node(*victim).Start().ok());
  ASSERT_TRUE(cluster.WaitForClusterOk(absl::Seconds(30)).ok());
  testing::ShardedSubscriber everywhere(cluster, parts);
  const absl::Status resumed = WrittenAndPublished(cluster, stalled, everywhere, symbols);
  ASSERT_TRUE(resumed.ok()) << resumed << engine.ReadStderr();
  ASSERT_TRUE(engine.Signal(SIGTERM).ok());
  EXPECT_EQ(engine.Wait(absl::Seconds(10))->exit_code, 0) << engine.ReadStderr();
}

TEST(EngineOnCluster, AKilledMasterStallsOnlyItsOwnSymbolsUntilItsReplicaTakesOver) {
  // Full coverage off: the other masters keep taking writes while the dead
  // one's slots have no master (docs/engine.md, "Writing to Redis Cluster").
  testing::ClusterSet cluster(testing::ClusterSetOptions{.require_full_coverage = false});
  ASSERT_TRUE(cluster.Start().ok());
  const std::vector<std::string> symbols = feed::DefaultSymbols(200);
  const redis::Partitioning parts(redis::kDefaultPartitions);
  testing::ShardedSubscriber subscriber(cluster, parts);
  Process engine = SpawnOnCluster(cluster, {"--symbols", "200", "--hz", "20"});
  ASSERT_TRUE(Eventually([&] {
    for (const std::string& s : symbols) {
      if (ClusterStateSeq(cluster, s) < 5) return false;
    }
    return true;
  }, absl::Seconds(30)).ok()) << engine.ReadStderr();

  absl::StatusOr<size_t> victim = cluster.MasterOf(redis::KeySlot("physics:state:SPY"));
  ASSERT_TRUE(victim.ok());
  std::vector<std::string> stalled;                  // on the victim
  std::map<std::string, const RedisServer*> others;  // symbol -> its (live) master
  for (const std::string& s : symbols) {
    const RedisServer* node = MasterFor(cluster, "physics:state:" + s);
    ASSERT_NE(node, nullptr);
    if (node == &cluster.node(*victim)) {
      stalled.push_back(s);
    } else {
      others[s] = node;
    }
  }
  ASSERT_FALSE(stalled.empty());
  ASSERT_FALSE(others.empty());
  std::map<std::string, int64_t> before_kill;
  for (const std::string& s : stalled) before_kill[s] = testing::StateSeq(cluster.node(*victim), s);
  cluster.node(*victim).Kill();

  // The stalled symbols whose channel lives on a surviving master: their
  // states cannot be stored, so no message may announce one.
  std::vector<std::string> watched;
  for (const std::string& s : stalled) {
    absl::StatusOr<size_t> channel_master = cluster.MasterOf(parts.Slot(parts.Of(s)));
    if (channel_master.ok() && *channel_master != *victim) watched.push_back(s);
  }
  ASSERT_FALSE(watched.empty());
  std::map<std::string, size_t> announced;  // messages per watched symbol, early in the outage

  // During the outage, every other symbol's state keeps advancing: sampled
  // three times, each sample after the previous one has moved every symbol on.
  for (int round = 0; round < 3; ++round) {
    if (round == 2) {  // two loop ticks after the kill: what was in flight has arrived
      for (const std::string& s : watched) announced[s] = subscriber.messages()[s].size();
    }
    std::map<std::string, int64_t> seen;
    for (const auto& [s, node] : others) seen[s] = testing::StateSeq(*node, s);
    const absl::Status moved = Eventually([&]() -> absl::Status {
      for (const auto& [s, node] : others) {
        if (testing::StateSeq(*node, s) <= seen[s]) return absl::NotFoundError(s + " did not advance");
      }
      return absl::OkStatus();
    }, absl::Seconds(5));
    ASSERT_TRUE(moved.ok()) << "round " << round << ": " << moved << engine.ReadStderr();
  }
  for (const std::string& s : watched) {
    EXPECT_EQ(subscriber.messages()[s].size(), announced[s]) << s << ": a message for a state not stored";
  }

  ASSERT_TRUE(cluster.WaitForClusterOk(absl::Seconds(30)).ok());
  const absl::Status resumed = Eventually([&]() -> absl::Status {
    for (const std::string& s : stalled) {
      if (ClusterStateSeq(cluster, s) <= before_kill[s]) return absl::NotFoundError(s + " not written since the kill");
    }
    return absl::OkStatus();
  }, absl::Seconds(30));
  ASSERT_TRUE(resumed.ok()) << resumed << engine.ReadStderr();
  ASSERT_TRUE(engine.Signal(SIGTERM).ok());
  EXPECT_EQ(engine.Wait(absl::Seconds(10))->exit_code, 0) << engine.ReadStderr();
  const std::string log = engine.ReadStderr();
  EXPECT_NE(log.find("symbols not written"), std::string::npos) << log;
  EXPECT_NE(log.find("is back"), std::string::npos) << log;
}

}  // namespace
}  // namespace physics
