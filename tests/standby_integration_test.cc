// A standby engine (--leader-lease, docs/SPEC.md §9) end to end: two real
// engine processes on the same simulated feed and one redis-server. Only the
// lease holder writes; a killed leader is replaced within the lease plus a
// tick; a stalled leader that wakes up lands nothing after the takeover.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "engine/redis/partition.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_server.h"
#include "tests/support/seq_floor.h"

namespace physics {
namespace {

using testing::Process;
using testing::ProcessOptions;
using testing::EngineId;
using testing::RedisServer;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kLeaseKey = "ops:leader:engine";
constexpr int kSymbols = 5;

struct Update {
  std::string symbol;
  int64_t seq = 0;
  absl::Time received;
};

// Every state_update message's symbol and seq, in arrival order, read on a
// background thread: the witness that no write lands out of order.
class Witness {
 public:
  explicit Witness(const RedisServer& server) {
    conn_ = *server.Connect();
    EXPECT_TRUE(conn_->Command({"SUBSCRIBE", "state_update"}).ok());
    thread_ = std::thread([this] {
      simdjson::ondemand::parser parser;
      while (true) {
        absl::StatusOr<redis::Reply> reply = conn_->ReadReply();
        if (!reply.ok()) {
          if (stop_) return;
          continue;  // read timeout: keep listening
        }
        const redisReply* r = reply->get();
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) continue;
        simdjson::padded_string json(r->element[2]->str, r->element[2]->len);
        simdjson::ondemand::document doc = parser.iterate(json);
        Update u;
        u.symbol = std::string(std::string_view(doc["symbol"].get_string().value()));
        u.seq = doc["seq"].get_int64().value();
        u.received = absl::Now();
        std::lock_guard<std::mutex> lock(mu_);
        updates_.push_back(std::move(u));
      }
    });
  }
  ~Witness() {
    stop_ = true;
    ::shutdown(conn_->raw()->fd, SHUT_RDWR);
    thread_.join();
  }
  std::vector<Update> updates() {
    std::lock_guard<std::mutex> lock(mu_);
    return updates_;
  }
  size_t count() { return updates().size(); }

 private:
  std::optional<redis::Connection> conn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Update> updates_;
};

// Waits for `condition` until `timeout`; true when it held.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// `args` replace the default --symbols kSymbols.
Process SpawnEngine(const RedisServer& server, std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {kEngine, "--feed", "sim", "--seed", "7", "--hz", "10", "--leader-lease", "2"};
  if (args.empty()) args = {"--symbols", absl::StrCat(kSymbols)};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Process> p = Process::Spawn(ProcessOptions{
      .argv = std::move(argv),
      .env = {{"REDIS_URL", server.url()}},
      .unset_env = {"REDIS_NAMESPACE"}});
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// symbol -> seq of every stored physics:state:{SYM} (0 when absent).
std::map<std::string, int64_t> StoredSeqs(const RedisServer& server) {
  std::map<std::string, int64_t> out;
  simdjson::ondemand::parser parser;
  absl::StatusOr<redis::Reply> keys = server.Run({"KEYS", "physics:state:*"});
  if (!keys.ok()) return out;
  for (size_t k = 0; k < (*keys)->elements; ++k) {
    const std::string key((*keys)->element[k]->str, (*keys)->element[k]->len);
    const std::string json = server.String({"GET", key});
    if (json.empty()) continue;
    simdjson::padded_string padded(json);
    simdjson::ondemand::document doc = parser.iterate(padded);
    out[key] = doc["seq"].get_int64().value();
  }
  return out;
}

// Every symbol's seq strictly increases along the witness's messages.
void ExpectSeqStrictlyIncreasing(const std::vector<Update>& updates) {
  std::map<std::string, int64_t> last;
  for (size_t i = 0; i < updates.size(); ++i) {
    const Update& u = updates[i];
    EXPECT_GT(u.seq, last[u.symbol]) << u.symbol << " message #" << i;
    last[u.symbol] = u.seq;
  }
}

bool StderrHas(Process& p, std::string_view text) {
  return p.ReadStderr().find(text) != std::string::npos;
}

// Two engines, the first leading: returns once the second stands by.
struct Pair {
  explicit Pair(const RedisServer& server) : leader(SpawnEngine(server)) {
    EXPECT_TRUE(WaitUntil([&] { return server.String({"GET", kLeaseKey}) == EngineId(leader); },
                          absl::Seconds(10)));
    standby = SpawnEngine(server);
    const std::string hb = absl::StrCat("ops:hb:engine:", EngineId(*standby));
    EXPECT_TRUE(WaitUntil([&] { return server.Integer({"EXISTS", hb}) == 1; }, absl::Seconds(10)));
  }
  Process leader;
  std::optional<Process> standby;
};

TEST(StandbyEngine, OnlyTheLeaseHolderWrites) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Witness witness(server);
  Pair pair(server);
  // A few seconds of both running: the lease stays with the first engine, the
  // second never leads, and every message is the leader's (seq never repeats).
  const size_t seen = witness.count();
  ASSERT_TRUE(WaitUntil([&] { return witness.count() >= seen + 20 * kSymbols; }, absl::Seconds(10)));
  EXPECT_EQ(server.String({"GET", kLeaseKey}), EngineId(pair.leader));
  const int64_t ttl = server.Integer({"PTTL", kLeaseKey});
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 2000);
  EXPECT_FALSE(StderrHas(*pair.standby, "leading")) << pair.standby->ReadStderr();
  ExpectSeqStrictlyIncreasing(witness.updates());
}

TEST(StandbyEngine, TakesOverWithinTheLeaseWhenTheLeaderIsKilled) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Witness witness(server);
  Pair pair(server);
  ASSERT_TRUE(WaitUntil([&] { return witness.count() >= 10 * kSymbols; }, absl::Seconds(10)));
  const std::map<std::string, int64_t> before = StoredSeqs(server);

  ASSERT_TRUE(pair.leader.Signal(SIGKILL).ok());
  const absl::Time killed = absl::Now();
  const size_t at_kill = witness.count();
  ASSERT_TRUE(WaitUntil([&] { return witness.count() >= at_kill + 10 * kSymbols; },
                        absl::Seconds(15)));
  // The first message well after the kill is the standby's (the dying
  // leader's last messages arrive within a millisecond or so). The bound is
  // generous (lease 2 s + a tick is the target); the figure is printed.
  const std::vector<Update> updates = witness.updates();
  absl::Time first_new = absl::InfiniteFuture();
  for (size_t i = at_kill; i < updates.size(); ++i) {
    if (updates[i].received - killed > absl::Milliseconds(200)) {
      first_new = updates[i].received;
      break;
    }
  }
  EXPECT_LT(first_new - killed, absl::Seconds(4));
  std::cout << "[failover] SIGKILL of the leader -> first message of the standby: "
            << absl::ToDoubleMilliseconds(first_new - killed) << " ms (lease 2 s, 10 Hz)\n";
  EXPECT_EQ(server.String({"GET", kLeaseKey}), EngineId(*pair.standby));
  EXPECT_TRUE(StderrHas(*pair.standby, "first write as leader")) << pair.standby->ReadStderr();
  // Taken once and kept: its first transaction was not aborted by what it
  // watched while standing by.
  EXPECT_FALSE(StderrHas(*pair.standby, "lost the leader lease")) << pair.standby->ReadStderr();

  ExpectSeqStrictlyIncreasing(updates);
  const std::map<std::string, int64_t> after = StoredSeqs(server);
  ASSERT_EQ(after.size(), static_cast<size_t>(kSymbols));
  for (const auto& [key, seq] : before) EXPECT_GT(after.at(key), seq) << key;
}

TEST(StandbyEngine, AnOrderlyStopHandsTheLeaseOverWithoutWaitingForIt) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Pair pair(server);
  const absl::Time stop = absl::Now();
  EXPECT_TRUE(pair.leader.Terminate().success()) << pair.leader.ReadStderr();
  ASSERT_TRUE(WaitUntil([&] { return server.String({"GET", kLeaseKey}) == EngineId(*pair.standby); },
                        absl::Seconds(10)));
  // Well under the 2 s the lease would take to lapse (renewed every tick).
  EXPECT_LT(absl::Now() - stop, absl::Seconds(1));
}

TEST(StandbyEngine, AStalledLeaderThatWakesUpLandsNoWriteAfterTheTakeover) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Witness witness(server);
  Pair pair(server);
  ASSERT_TRUE(WaitUntil([&] { return witness.count() >= 10 * kSymbols; }, absl::Seconds(10)));

  ASSERT_TRUE(pair.leader.Signal(SIGSTOP).ok());
  ASSERT_TRUE(WaitUntil([&] { return StderrHas(*pair.standby, "first write as leader"); },
                        absl::Seconds(15)))
      << pair.standby->ReadStderr();
  testing::SeqFloor floor(StoredSeqs(server));
  ASSERT_TRUE(pair.leader.Signal(SIGCONT).ok());

  // Until the old leader has noticed, and for a few ticks after: stored seqs
  // never go backwards.
  const auto sample = [&] { floor.Sample(StoredSeqs(server)); };
  EXPECT_TRUE(WaitUntil([&] { sample(); return StderrHas(pair.leader, "lost the leader lease"); },
                        absl::Seconds(10)))
      << pair.leader.ReadStderr();
  const size_t at_notice = witness.count();
  ASSERT_TRUE(WaitUntil([&] { sample(); return witness.count() >= at_notice + 10 * kSymbols; },
                        absl::Seconds(10)));
  EXPECT_FALSE(floor.went_backwards());
  EXPECT_EQ(server.String({"GET", kLeaseKey}), EngineId(*pair.standby));
  ExpectSeqStrictlyIncreasing(witness.updates());
  EXPECT_TRUE(pair.leader.running());  // a standby now, not dead
}

// Engine shards with standbys (--shard I/N --leader-lease): each shard has its
// own lease ops:leader:engine:I/N; killing shard 0's leader hands shard 0 to
// its standby, and shard 1 writes on meanwhile.
TEST(StandbyEngine, EachShardHasItsOwnLeaseAndOnlyTheKilledLeadersShardChangesHands) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Witness witness(server);
  const std::string lease0 = "ops:leader:engine:0/2", lease1 = "ops:leader:engine:1/2";
  const std::vector<std::string> shard0 = {"--symbols", "20", "--shard", "0/2"};
  Process leader0 = SpawnEngine(server, shard0);
  Process leader1 = SpawnEngine(server, {"--symbols", "20", "--shard", "1/2"});
  ASSERT_TRUE(WaitUntil([&] {
    return server.String({"GET", lease0}) == EngineId(leader0) &&
           server.String({"GET", lease1}) == EngineId(leader1);
  }, absl::Seconds(10)));
  Process standby0 = SpawnEngine(server, shard0);
  const std::string hb = absl::StrCat("ops:hb:engine:", EngineId(standby0));
  ASSERT_TRUE(WaitUntil([&] { return server.Integer({"EXISTS", hb}) == 1; }, absl::Seconds(10)));
  EXPECT_EQ(server.Integer({"EXISTS", "ops:leader:engine"}), 0);  // no unsharded lease

  const redis::Partitioning parts(redis::kDefaultPartitions);
  const auto in_shard1 = [&](const Update& u) { return redis::ShardOwns(1, 2, parts.Of(u.symbol)); };
  ASSERT_TRUE(WaitUntil([&] { return witness.count() >= 200; }, absl::Seconds(10)));
  ASSERT_TRUE(leader0.Signal(SIGKILL).ok());
  const absl::Time killed = absl::Now();
  ASSERT_TRUE(WaitUntil([&] { return StderrHas(standby0, "first write as leader"); }, absl::Seconds(15)))
      << standby0.ReadStderr();
  EXPECT_EQ(server.String({"GET", lease0}), EngineId(standby0));
  EXPECT_EQ(server.String({"GET", lease1}), EngineId(leader1));
  EXPECT_FALSE(StderrHas(leader1, "lost the leader lease")) << leader1.ReadStderr();

  // Shard 1 kept publishing while shard 0 had no leader; shard 0 is back.
  ASSERT_TRUE(WaitUntil([&] {
    for (const Update& u : witness.updates()) {
      if (!in_shard1(u) && u.received > killed + absl::Milliseconds(200)) return true;
    }
    return false;
  }, absl::Seconds(5)));
  // The gap: from the kill (the dying leader's last messages arrive within a
  // millisecond or so) to the standby's first message.
  const std::vector<Update> updates = witness.updates();
  absl::Time gap_end = absl::InfiniteFuture();
  for (const Update& u : updates) {
    if (!in_shard1(u) && u.received > killed + absl::Milliseconds(200)) {
      gap_end = u.received;
      break;
    }
  }
  int64_t shard1_meanwhile = 0;
  for (const Update& u : updates) {
    if (in_shard1(u) && u.received > killed + absl::Milliseconds(200) && u.received < gap_end) ++shard1_meanwhile;
  }
  EXPECT_LT(gap_end - killed, absl::Seconds(4));
  EXPECT_GT(shard1_meanwhile, 0);
  std::cout << "[shards] SIGKILL of shard 0's leader -> its standby's first message: "
            << absl::ToDoubleMilliseconds(gap_end - killed) << " ms; shard 1 published "
            << shard1_meanwhile << " messages meanwhile\n";
  ExpectSeqStrictlyIncreasing(updates);
}

}  // namespace
}  // namespace physics
