// A Sentinel failover end to end (docs/SPEC.md §7, §9): physics-engine and
// physics-bridge on a redis-sentinel:// URL while the master is SIGKILLed or
// stalled (SIGSTOP past down-after). Writes resume on the promoted replica,
// WebSocket clients stay connected and end with every symbol's stored state,
// and the states equal a run without the fault.
#include <csignal>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bridge/testing/ws_test_client.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/support/csv_replay.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/sentinel_set.h"
#include "tests/support/temp_dir.h"

namespace physics {
namespace {

using bridge::testing::HttpRequest;
using bridge::testing::HttpResponse;
using bridge::testing::WsTestClient;
using testing::Eventually;
using testing::Process;
using testing::RedisServer;
using testing::SentinelSet;
using testing::StateSeq;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kBridge = PHYSICS_BRIDGE_BIN;
constexpr const char* kPublish = PHYSICS_PUBLISH_BIN;
// Down-after 1 s, then the election: a promotion takes 2-5 s here.
constexpr absl::Duration kFailoverTimeout = absl::Seconds(30);

const std::vector<std::string> kSymbols = {"SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA"};

// `buckets` one-second buckets with two ticks per symbol each.
std::string MakeCsv(int buckets) {
  std::string csv = "timestamp,symbol,price,size,trades,bid,ask\n";
  std::vector<double> price = {450, 380, 200, 190, 410, 120};
  uint64_t state = 777;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
  };
  for (int b = 0; b < buckets; ++b) {
    for (int k = 0; k < 2; ++k) {
      for (size_t s = 0; s < kSymbols.size(); ++s) {
        price[s] *= 1 + 0.004 * (next() - 0.5);
        absl::StrAppend(&csv, 1766318400 + b, ".", absl::Dec(k * 400000 + s, absl::kZeroPad6), ",",
                        kSymbols[s], ",", price[s], ",", 1 + static_cast<int>(next() * 500),
                        ",1,,\n");
      }
    }
  }
  return csv;
}

std::map<std::string, std::string> States(const RedisServer& node) {
  std::map<std::string, std::string> out;
  for (const std::string& s : kSymbols) {
    if (std::string v = testing::Get(node, "physics:state:" + s); !v.empty()) out[s] = v;
  }
  return out;
}

std::string GroupField(const RedisServer& node, const std::string& field) {
  absl::StatusOr<redis::Reply> r = node.Run({"XINFO", "GROUPS", "market:ticks"});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements == 0) return "";
  const std::map<std::string, std::string> group = testing::FieldMap(*(*r)->element[0]);
  auto it = group.find(field);
  return it == group.end() ? "" : it->second;
}

int64_t EntriesRead(const RedisServer& node) {
  int64_t n = -1;
  return absl::SimpleAtoi(GroupField(node, "entries-read"), &n) ? n : -1;
}

// Every entry of the stream delivered to the group and acknowledged.
bool Drained(const RedisServer& node) {
  absl::StatusOr<redis::Reply> last = node.Run({"XREVRANGE", "market:ticks", "+", "-", "COUNT", "1"});
  if (!last.ok() || (*last)->elements == 0) return false;
  const std::string last_id((*last)->element[0]->element[0]->str, (*last)->element[0]->element[0]->len);
  return GroupField(node, "last-delivered-id") == last_id && GroupField(node, "pending") == "0";
}

// The data node the sentinels promoted.
RedisServer& NodeOnPort(SentinelSet& set, int port) {
  for (size_t i = 0; i < set.node_count(); ++i) {
    if (set.node(i).port() == port) return set.node(i);
  }
  ADD_FAILURE() << "no data node on port " << port;
  return set.node(0);
}

int HealthStatus(int port) {
  absl::StatusOr<HttpResponse> r = HttpRequest(port, "GET", "/healthz", absl::Seconds(2));
  return r.ok() ? r->status : -1;
}

// physics-bridge on the sentinels' URL, listening on a free port.
struct BridgeProcess {
  Process process;
  int port = 0;

  static BridgeProcess Start(const std::string& redis_url) {
    BridgeProcess b{.process = testing::SpawnWithRedis(kBridge, redis_url, {"--listen", "127.0.0.1:0"}).value()};
    constexpr std::string_view kListening = "listening on http://127.0.0.1:";
    EXPECT_TRUE(Eventually([&] {
                  const std::string log = b.process.ReadStderr();
                  const size_t at = log.find(kListening);
                  if (at != std::string::npos) b.port = std::atoi(log.c_str() + at + kListening.size());
                  return b.port != 0;
                }).ok())
        << b.process.ReadStderr();
    EXPECT_TRUE(Eventually([&] { return HealthStatus(b.port) == 200; }).ok()) << b.process.ReadStderr();
    return b;
  }
};

// WebSocket clients subscribed to state_update, each drained by its own
// thread, which keeps the last seq per symbol and notes a lost connection.
class Clients {
 public:
  Clients(int port, int count) {
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(port);
      EXPECT_TRUE(ws.ok()) << ws.status();
      if (!ws.ok()) continue;
      EXPECT_TRUE(ws->SendText(R"({"type":"subscribe","channel":"state_update"})").ok());
      seen_.emplace_back();
      threads_.emplace_back([this, i, ws = *std::move(ws)]() mutable { Read(static_cast<size_t>(i), ws); });
    }
  }
  ~Clients() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
  }

  int64_t LastSeq(size_t client, const std::string& symbol) const {
    absl::MutexLock lock(&mu_);
    auto it = seen_[client].find(symbol);
    return it == seen_[client].end() ? 0 : it->second;
  }
  size_t size() const { return threads_.size(); }
  int dropped() const { return dropped_.load(); }

 private:
  void Read(size_t client, WsTestClient& ws) {
    simdjson::ondemand::parser parser;
    while (!stop_.load()) {
      absl::StatusOr<std::string> text = ws.ReadText(absl::Milliseconds(100));
      if (absl::IsDeadlineExceeded(text.status())) continue;
      if (!text.ok()) {
        dropped_.fetch_add(1);
        return;
      }
      simdjson::padded_string padded(*text);
      simdjson::ondemand::document doc;
      std::string_view symbol;
      int64_t seq = 0;
      if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) continue;
      simdjson::ondemand::object data;
      if (doc["data"].get_object().get(data) != simdjson::SUCCESS) continue;  // "subscribed"
      if (data["symbol"].get_string().get(symbol) != simdjson::SUCCESS) continue;
      const std::string name(symbol);
      if (data["seq"].get_int64().get(seq) != simdjson::SUCCESS) continue;
      absl::MutexLock lock(&mu_);
      int64_t& last = seen_[client][name];
      last = std::max(last, seq);
    }
  }

  mutable absl::Mutex mu_;
  std::vector<std::map<std::string, int64_t>> seen_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::atomic<int> dropped_{0};
  std::vector<std::thread> threads_;
};

// OK once every client's last seq of every symbol is the one stored on `node`.
absl::Status ClientsHaveStoredStates(const Clients& clients, const RedisServer& node) {
  for (const std::string& symbol : kSymbols) {
    const int64_t stored = StateSeq(node, symbol);
    for (size_t c = 0; c < clients.size(); ++c) {
      if (const int64_t got = clients.LastSeq(c, symbol); got != stored || stored == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("client ", c, " ", symbol, ": seq ", got, ", stored ", stored));
      }
    }
  }
  return absl::OkStatus();
}

TEST(FailoverEndToEnd, MasterKilledMidStreamWritesResumeOnTheReplicaAndClientsGetEveryState) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  RedisServer& old_master = set.node(0);
  const testing::TempDir dir = *testing::TempDir::Create();
  const std::string csv = dir.File("ticks.csv");
  ASSERT_TRUE(testing::WriteFile(csv, MakeCsv(4000)).ok());
  {
    Process publish = testing::SpawnWithRedis(kPublish, old_master.url(),
                                              {"--to", "stream", "--csv", csv, "--rate", "0"})
                          .value();
    absl::StatusOr<testing::ExitStatus> st = publish.Wait(absl::Seconds(30));
    ASSERT_TRUE(st.ok() && st->exit_code == 0) << publish.ReadStderr();
  }
  const int64_t total = old_master.Integer({"XLEN", "market:ticks"});
  // The whole stream is on every replica before the fault, so the stream
  // after it is the one published, and so is the reference.
  for (size_t i = 1; i < set.node_count(); ++i) {
    ASSERT_TRUE(Eventually([&] { return set.node(i).Integer({"XLEN", "market:ticks"}) == total; }).ok());
  }
  const std::map<std::string, std::string> expected = testing::ReplayCsvFile(csv, 1).value().states;

  BridgeProcess bridge = BridgeProcess::Start(set.url());
  Clients clients(bridge.port, 4);
  Process engine = testing::SpawnWithRedis(kEngine, set.url(), {"--feed", "stream"}).value();
  ASSERT_TRUE(Eventually([&] { return EntriesRead(old_master) >= total / 3; }, absl::Seconds(30)).ok())
      << engine.ReadStderr();
  // Replication is cut first (the replicas' next handshake is refused), so
  // the master acknowledges deliveries and XACKs that no replica gets: the
  // promoted replica delivers those entries again.
  for (size_t i = 1; i < set.node_count(); ++i) {
    ASSERT_TRUE(set.node(i).Run({"CONFIG", "SET", "masterauth", "not-the-password"}).ok());
  }
  ASSERT_TRUE(old_master.Run({"CLIENT", "KILL", "TYPE", "replica"}).ok());
  const int64_t cut_at = EntriesRead(old_master);
  ASSERT_TRUE(Eventually([&] { return EntriesRead(old_master) >= cut_at + 1000; }).ok());
  ASSERT_FALSE(Drained(old_master)) << "the engine finished before the fault";

  old_master.Kill();
  for (size_t i = 1; i < set.node_count(); ++i) {
    ASSERT_TRUE(set.node(i).Run({"CONFIG", "SET", "masterauth", ""}).ok());
  }
  EXPECT_TRUE(Eventually([&] { return HealthStatus(bridge.port) == 503; }).ok())
      << "no master: /healthz must say so";
  absl::StatusOr<int> new_port = set.WaitForNewMaster(old_master.port(), kFailoverTimeout);
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  RedisServer& master = NodeOnPort(set, *new_port);
  EXPECT_TRUE(Eventually([&] { return HealthStatus(bridge.port) == 200; }).ok())
      << bridge.process.ReadStderr();

  ASSERT_TRUE(Eventually([&] { return Drained(master); }, absl::Seconds(60)).ok())
      << engine.ReadStderr();
  EXPECT_EQ(master.Integer({"XLEN", "market:ticks"}), total);
  EXPECT_EQ(States(master), expected) << engine.ReadStderr();
  EXPECT_TRUE(Eventually([&] { return ClientsHaveStoredStates(clients, master); }).ok());
  EXPECT_EQ(clients.dropped(), 0) << "a WebSocket client was disconnected";
  ASSERT_TRUE(engine.running()) << engine.ReadStderr();
  const std::string log = engine.ReadStderr();
  constexpr std::string_view kRedelivered = "reconnected; ";
  const size_t at = log.find(kRedelivered);
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_NE(log.find("entries delivered again that this engine had already acknowledged", at),
            std::string::npos)
      << log;
  const int redelivered = std::atoi(log.c_str() + at + kRedelivered.size());
  EXPECT_GT(redelivered, 0) << log;
  ::testing::Test::RecordProperty("entries_delivered_again", redelivered);
  std::cout << "entries delivered again after the failover: " << redelivered << "\n";
  EXPECT_EQ(engine.Terminate().exit_code, 0) << engine.ReadStderr();
}

TEST(FailoverEndToEnd, StalledMasterIsReplacedAndItsReturnLosesNothingTheNewMasterAcknowledged) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  RedisServer& old_master = set.node(0);
  Process engine =
      testing::SpawnWithRedis(kEngine, set.url(), {"--hz", "20", "--symbols", "5"}).value();
  ASSERT_TRUE(Eventually([&] { return StateSeq(old_master, "SPY") > 5; }).ok()) << engine.ReadStderr();

  ASSERT_TRUE(set.Pause(0).ok());
  absl::StatusOr<int> new_port = set.WaitForNewMaster(old_master.port(), kFailoverTimeout);
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  RedisServer& master = NodeOnPort(set, *new_port);
  absl::StatusOr<int64_t> first =
      testing::EventuallyValue([&] { return StateSeq(master, "SPY"); }, [](int64_t s) { return s > 0; });
  ASSERT_TRUE(first.ok()) << first.status() << engine.ReadStderr();

  // The old master comes back, is demoted by the sentinels and resyncs from
  // the new one; meanwhile every state's seq on the new master only grows.
  ASSERT_TRUE(set.Resume(0).ok());
  std::map<std::string, int64_t> last;
  std::string backwards;
  const auto never_backwards = [&] {
    for (const char* s : {"SPY", "QQQ", "IWM", "AAPL", "MSFT"}) {
      const int64_t seq = StateSeq(master, s);
      if (seq < last[s]) absl::StrAppend(&backwards, s, " ", last[s], " -> ", seq, "; ");
      last[s] = std::max(last[s], seq);
    }
    return backwards.empty();
  };
  ASSERT_TRUE(Eventually([&] { return never_backwards() && testing::RoleOf(old_master.config()) == "slave"; },
                         kFailoverTimeout)
                  .ok())
      << backwards;
  const int64_t at_demotion = last["SPY"];
  ASSERT_TRUE(Eventually([&] { return !never_backwards() || last["SPY"] > at_demotion + 20; }).ok());
  EXPECT_TRUE(backwards.empty()) << backwards;
  EXPECT_GT(last["SPY"], *first) << "the engine kept writing to the new master";
  EXPECT_TRUE(Eventually([&] { return StateSeq(old_master, "SPY") >= at_demotion; }).ok())
      << "the demoted node replicates the new master";
  ASSERT_TRUE(engine.running()) << engine.ReadStderr();
  EXPECT_EQ(engine.Terminate().exit_code, 0) << engine.ReadStderr();
}

}  // namespace
}  // namespace physics
