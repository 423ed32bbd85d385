// physics-engine end to end: a real process writing to a real redis-server.
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/csv_replay.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace physics {
namespace {

using testing::Eventually;
using testing::EventuallyValue;
using testing::Get;
using testing::HGetAll;
using testing::Process;
using testing::ProcessOptions;
using testing::RedisServer;
using testing::StateSeq;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;

// 3 symbols over 40 one-second buckets, plus bad rows in the middle.
std::string ReplayCsv() {
  std::string csv = "timestamp,symbol,price,size,trades,bid,ask\n";
  double spy = 450, qqq = 380, iwm = 200;
  for (int i = 0; i < 40; ++i) {
    const int64_t t = 1766318400 + i;
    spy *= 1 + 0.001 * ((i * 37) % 11 - 5);
    qqq *= 1 + 0.002 * ((i * 17) % 7 - 3);
    absl::StrAppend(&csv, t, ".100000,SPY,", spy, ",", 100 + i, ",2,", spy - 0.01, ",", spy + 0.01, "\n");
    absl::StrAppend(&csv, t, ".500000,spy,", spy * 1.0001, ",50,1,,\n");
    absl::StrAppend(&csv, t, ".200000,QQQ,", qqq, ",", 10 * i, ",1,,\n");
    if (i % 3 == 0) absl::StrAppend(&csv, t, ".300000,IWM,", iwm + i, ",0,0,,\n");
    if (i == 20) {
      absl::StrAppend(&csv, t, ".400000,SPY,-5,1,1,,\n");      // bad price
      absl::StrAppend(&csv, t, ".400000,SP Y,5,1,1,,\n");      // bad symbol
      absl::StrAppend(&csv, "not,a,row\n");                     // unparsable
    }
  }
  return csv;
}

// Collects every message published on `channel` from a background thread.
class Subscriber {
 public:
  Subscriber(const RedisServer& server, std::string channel) {
    conn_ = *server.Connect();
    auto r = conn_->Command({"SUBSCRIBE", channel});
    EXPECT_TRUE(r.ok());
    thread_ = std::thread([this] {
      while (true) {
        absl::StatusOr<redis::Reply> reply = conn_->ReadReply();
        if (!reply.ok()) {
          if (stop_) return;
          continue;  // read timeout: keep listening
        }
        const redisReply* r = reply->get();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            std::string_view(r->element[0]->str, r->element[0]->len) == "message") {
          std::lock_guard<std::mutex> lock(mu_);
          messages_.emplace_back(r->element[2]->str, r->element[2]->len);
        }
      }
    });
  }
  ~Subscriber() {
    stop_ = true;
    ::shutdown(conn_->raw()->fd, SHUT_RDWR);
    thread_.join();
  }
  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  // The messages once there are `count` of them (or all so far after 10 s:
  // callers compare them with what they expect).
  std::vector<std::string> WaitFor(size_t count) {
    Eventually([&] { return messages().size() >= count; }).IgnoreError();
    return messages();
  }

 private:
  std::optional<redis::Connection> conn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> messages_;
};

Process SpawnEngine(const RedisServer& server, std::vector<std::string> args, testing::EnvVars env = {}) {
  return testing::SpawnWithRedis(kEngine, server.url(), std::move(args), std::move(env)).value();
}

// The engine's csv input: ReplayCsv() in `dir`.
std::string WriteReplayCsv(const testing::TempDir& dir) {
  const std::string path = dir.File("ticks.csv");
  EXPECT_TRUE(testing::WriteFile(path, ReplayCsv()).ok());
  return path;
}

TEST(EngineCsvReplay, WritesExactlyTheExpectedKeysValuesTtlsAndMessages) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  testing::TempDir dir = *testing::TempDir::Create();
  const std::string csv = WriteReplayCsv(dir);
  // What the engine must write: the same file through the same library.
  const testing::CsvReplay expected = testing::ReplayCsvFile(csv, 1).value();
  ASSERT_EQ(expected.states.size(), 3u);

  Subscriber sub(server, "state_update");
  Process engine = SpawnEngine(server, {"--feed", "csv:" + csv, "--snapshot-ttl", "45"});
  absl::StatusOr<testing::ExitStatus> st = engine.Wait(absl::Seconds(30));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->exit_code, 0) << engine.ReadStderr();

  for (const auto& [symbol, json] : expected.states) {
    EXPECT_EQ(Get(server, "physics:state:" + symbol), json) << symbol;
    EXPECT_EQ(server.Integer({"TTL", "physics:state:" + symbol}), -1);
    const int64_t ttl = server.Integer({"TTL", "market:snapshot:" + symbol});
    EXPECT_GT(ttl, 40);
    EXPECT_LE(ttl, 45);
  }
  const auto snap = HGetAll(server, "market:snapshot:SPY");
  ASSERT_EQ(snap.size(), 5u);
  EXPECT_EQ(snap.at("timestamp"), "1766318439");
  EXPECT_NE(snap.at("bid"), "");
  EXPECT_EQ(HGetAll(server, "market:snapshot:QQQ").at("bid"), "");  // never quoted
  EXPECT_EQ(server.Integer({"DBSIZE"}), 6);

  EXPECT_EQ(sub.WaitFor(expected.events.size()), expected.events);

  const std::string log = engine.ReadStderr();
  EXPECT_NE(log.find("line 72"), std::string::npos) << log;
  EXPECT_NE(log.find("price -5: must be > 0"), std::string::npos) << log;
  EXPECT_NE(log.find("bad symbol 'SP Y'"), std::string::npos) << log;
  EXPECT_NE(log.find("3 rejected"), std::string::npos) << log;
}

TEST(EngineCsvReplay, SameFileGivesSameBytes) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  testing::TempDir dir = *testing::TempDir::Create();
  const std::string csv = WriteReplayCsv(dir);
  const testing::CsvReplay expected = testing::ReplayCsvFile(csv, 2).value();
  ASSERT_FALSE(expected.events.empty());
  std::vector<std::string> runs[2];
  for (auto& run : runs) {
    ASSERT_TRUE(server.Run({"FLUSHALL"}).ok());
    Subscriber sub(server, "state_update");
    Process engine = SpawnEngine(server, {"--feed", "csv:" + csv, "--hz", "2"});
    ASSERT_EQ(engine.Wait(absl::Seconds(30))->exit_code, 0);
    run = sub.WaitFor(expected.events.size());
  }
  EXPECT_EQ(runs[0], expected.events);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(EngineCsvReplay, ErrorRepliesAreReportedAndTheOtherWritesStand) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Run({"SET", "market:snapshot:SPY", "not a hash"}).ok());
  testing::TempDir dir = *testing::TempDir::Create();
  const std::string csv = WriteReplayCsv(dir);
  Process engine = SpawnEngine(server, {"--feed", "csv:" + csv});
  ASSERT_EQ(engine.Wait(absl::Seconds(30))->exit_code, 0) << engine.ReadStderr();
  const std::string log = engine.ReadStderr();
  EXPECT_NE(log.find("Redis rejected part of a write"), std::string::npos) << log;
  EXPECT_NE(log.find("WRONGTYPE"), std::string::npos) << log;
  // One line at most per 10 s, not one per loop tick.
  EXPECT_EQ(log.find("Redis rejected part of a write"), log.rfind("Redis rejected part of a write"));
  EXPECT_NE(Get(server, "physics:state:SPY"), "");
  EXPECT_EQ(HGetAll(server, "market:snapshot:QQQ").size(), 5u);
}

TEST(EngineNamespace, PrefixesEveryKeyAndChannel) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  testing::TempDir dir = *testing::TempDir::Create();
  const std::string csv = WriteReplayCsv(dir);
  Subscriber sub(server, "agentic:state_update");
  Process engine = SpawnEngine(server, {"--feed", "csv:" + csv}, {{"REDIS_NAMESPACE", "agentic"}});
  ASSERT_EQ(engine.Wait(absl::Seconds(30))->exit_code, 0) << engine.ReadStderr();
  EXPECT_NE(Get(server, "agentic:physics:state:SPY"), "");
  EXPECT_EQ(Get(server, "physics:state:SPY"), "");
  EXPECT_EQ(HGetAll(server, "agentic:market:snapshot:QQQ").size(), 5u);
  EXPECT_FALSE(sub.WaitFor(1).empty());
}

TEST(EngineRedisFaults, RecoversAfterRedisIsKilledAndRestarted) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Process engine = SpawnEngine(server, {"--hz", "20", "--symbols", "5"});
  absl::StatusOr<int64_t> before =
      EventuallyValue([&] { return StateSeq(server, "SPY"); }, [](int64_t seq) { return seq > 5; });
  ASSERT_TRUE(before.ok()) << before.status() << engine.ReadStderr();

  server.Kill();
  // The outage lasts 1.5 s (30 ticks at 20 Hz): its length is what the
  // engine is tested against, not a guess at how long something takes.
  absl::SleepFor(absl::Seconds(1.5));
  ASSERT_TRUE(engine.running()) << engine.ReadStderr();
  ASSERT_TRUE(server.Start().ok());  // same port, empty data
  // The next reconnect attempt may be up to one backoff step (0.8-1.6 s
  // here) away.
  absl::StatusOr<int64_t> after =
      EventuallyValue([&] { return StateSeq(server, "SPY"); }, [](int64_t seq) { return seq > 0; });
  ASSERT_TRUE(after.ok()) << after.status() << engine.ReadStderr();

  // The engine kept computing through the outage: the first state written
  // after the restart is already far ahead of where it was.
  EXPECT_GT(*after, *before + 30) << engine.ReadStderr();
  EXPECT_EQ(server.Integer({"EXISTS", "physics:state:QQQ", "market:snapshot:QQQ"}), 2);

  const testing::ExitStatus st = engine.Terminate();
  EXPECT_EQ(st.exit_code, 0) << engine.ReadStderr();
  const std::string log = engine.ReadStderr();
  // One line per state change, not one per tick.
  EXPECT_EQ(testing::CountOf(log, "unavailable"), 1u) << log;
  EXPECT_NE(log.find("is back"), std::string::npos) << log;
}

TEST(EngineRedisFaults, StartsWithRedisDownAndWritesOnceItIsUp) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  server.Kill();
  Process engine = SpawnEngine(server, {"--hz", "20", "--symbols", "3"});
  // Until the engine has met the outage (and reported it), still running.
  ASSERT_TRUE(Eventually([&] { return engine.ReadStderr().find(" unavailable (") != std::string::npos; })
                  .ok())
      << engine.ReadStderr();
  ASSERT_TRUE(engine.running()) << engine.ReadStderr();
  ASSERT_TRUE(server.Start().ok());
  // It connects at its next backoff step and then writes every tick.
  absl::StatusOr<int64_t> seq =
      EventuallyValue([&] { return StateSeq(server, "SPY"); }, [](int64_t s) { return s > 20; });
  EXPECT_TRUE(seq.ok()) << seq.status() << engine.ReadStderr();
  EXPECT_EQ(engine.Terminate().exit_code, 0);
}

TEST(EngineSignals, SigtermFinishesTheTickAndExitsZeroPromptly) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Process engine = SpawnEngine(server, {"--hz", "1", "--symbols", "3"});
  // Mid-run: a first tick written, the next one ~1 s away.
  ASSERT_TRUE(Eventually([&] { return StateSeq(server, "SPY") >= 1; }).ok()) << engine.ReadStderr();
  const absl::Time sent = absl::Now();
  ASSERT_TRUE(engine.Signal(SIGTERM).ok());
  absl::StatusOr<testing::ExitStatus> st = engine.Wait(absl::Seconds(2));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->exit_code, 0);
  EXPECT_LT(absl::Now() - sent, absl::Seconds(1));
  EXPECT_GE(StateSeq(server, "SPY"), 1);
}

TEST(EngineCommandLine, BadValuesGiveOneLineAndExitTwo) {
  RedisServer server;  // never started: nothing may be contacted
  const std::vector<std::vector<std::string>> bad = {
      {"--hz", "fast"}, {"--window", "1"}, {"--feed", "kafka"}, {"--symbols", "S P Y"},
      {"--redis-url", "http://x"}, {"--feed", "csv:/nonexistent.csv"}, {"--bogus"}};
  for (const auto& args : bad) {
    Process p = SpawnEngine(server, args);
    absl::StatusOr<testing::ExitStatus> st = p.Wait(absl::Seconds(5));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->exit_code, 2) << args[0];
    const std::string err = p.ReadStderr();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("physics-engine: ", 0), 0u) << err;
  }
  Process env = SpawnEngine(server, {"--help"}, {{"REDIS_URL", "redis://host:notaport"}});
  EXPECT_EQ(env.Wait(absl::Seconds(5))->exit_code, 0);
  absl::StatusOr<Process> bad_env = Process::Spawn(ProcessOptions{
      .argv = {kEngine}, .env = {{"REDIS_URL", "redis://host:notaport"}}});
  EXPECT_EQ(bad_env->Wait(absl::Seconds(5))->exit_code, 2);
}

TEST(EngineCommandLine, HelpListsEveryFlag) {
  absl::StatusOr<Process> p = Process::Spawn(ProcessOptions{.argv = {kEngine, "--help"}});
  ASSERT_EQ(p->Wait(absl::Seconds(5))->exit_code, 0);
  const std::string out = p->ReadStdout();
  for (const char* flag : {"--redis-url", "--namespace", "--hz", "--window", "--feed", "--symbols",
                           "--seed", "--snapshot-ttl", "--state-ttl", "--duration", "--help"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace physics
