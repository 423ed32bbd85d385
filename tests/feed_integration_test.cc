// The live feeds end to end: physics-publish and physics-engine as real
// processes against a real redis-server, with Redis and the engine killed
// mid-stream. The reference for every final state is the same ticks replayed
// through the csv feed in-process: event-time bucketing makes the stream feed
// deterministic, so the states must be byte-equal.
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
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
using testing::FieldMap;
using testing::Get;
using testing::Process;
using testing::RedisServer;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kPublish = PHYSICS_PUBLISH_BIN;

const std::vector<std::string> kSymbols = {"SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA"};

// `buckets` one-second buckets, two ticks per symbol each (in-bucket order
// shuffled), plus rows that parse but must be rejected.
std::string MakeCsv(int buckets, int* invalid_rows) {
  std::string csv = "timestamp,symbol,price,size,trades,bid,ask\n";
  std::vector<double> price = {450, 380, 200, 190, 410, 120};
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
  };
  *invalid_rows = 0;
  for (int b = 0; b < buckets; ++b) {
    const int64_t t = 1766318400 + b;
    for (int k = 0; k < 2; ++k) {
      for (size_t s = 0; s < kSymbols.size(); ++s) {
        price[s] *= 1 + 0.004 * (next() - 0.5) + (next() < 0.05 ? 0.03 * (next() - 0.5) : 0);
        const int micros = static_cast<int>(next() * 999999);
        absl::StrAppend(&csv, t, ".", absl::Dec(micros, absl::kZeroPad6), ",", kSymbols[s], ",",
                        price[s], ",", static_cast<int>(next() * 500), ",",
                        1 + static_cast<int>(next() * 3), ",");
        if (s % 2 == 0) absl::StrAppend(&csv, price[s] - 0.01, ",", price[s] + 0.01);
        absl::StrAppend(&csv, s % 2 == 0 ? "" : ",", "\n");
      }
    }
    if (b % 250 == 7) {
      absl::StrAppend(&csv, t, ".5,SPY,-5,1,1,,\n", t, ".5,SP Y,5,1,1,,\n");
      *invalid_rows += 2;
    }
  }
  return csv;
}

std::map<std::string, std::string> States(const RedisServer& server, const std::string& prefix = "") {
  std::map<std::string, std::string> out;
  for (const std::string& s : kSymbols) {
    if (std::string v = Get(server, absl::StrCat(prefix, "physics:state:", s)); !v.empty()) out[s] = v;
  }
  return out;
}

// A field of the group's XINFO GROUPS entry, as text ("" when unavailable).
std::string GroupField(const RedisServer& server, const std::string& field) {
  absl::StatusOr<redis::Reply> r = server.Run({"XINFO", "GROUPS", "market:ticks"});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements == 0) return "";
  const std::map<std::string, std::string> group = FieldMap(*(*r)->element[0]);
  auto it = group.find(field);
  return it == group.end() ? "" : it->second;
}

int64_t EntriesRead(const RedisServer& server) {
  int64_t n = -1;
  return absl::SimpleAtoi(GroupField(server, "entries-read"), &n) ? n : -1;
}

std::string LastEntryId(const RedisServer& server) {
  absl::StatusOr<redis::Reply> r = server.Run({"XREVRANGE", "market:ticks", "+", "-", "COUNT", "1"});
  if (!r.ok() || (*r)->elements == 0) return "";
  return std::string((*r)->element[0]->element[0]->str, (*r)->element[0]->element[0]->len);
}

// Every entry delivered and acknowledged.
bool Drained(const RedisServer& server) {
  return GroupField(server, "last-delivered-id") == LastEntryId(server) &&
         GroupField(server, "pending") == "0";
}

Process Spawn(const char* binary, const RedisServer& server, std::vector<std::string> args,
              testing::EnvVars env = {}) {
  return testing::SpawnWithRedis(binary, server.url(), std::move(args), std::move(env)).value();
}

// SIGTERM; expects exit code 0 within a second.
void ExpectPromptCleanExit(Process& engine) {
  const absl::Time sent = absl::Now();
  ASSERT_TRUE(engine.Signal(SIGTERM).ok());
  absl::StatusOr<testing::ExitStatus> st = engine.Wait(absl::Seconds(3));
  ASSERT_TRUE(st.ok()) << "still running 3 s after SIGTERM";
  EXPECT_EQ(st->exit_code, 0) << engine.ReadStderr();
  EXPECT_LT(absl::Now() - sent, absl::Seconds(1));
}

// A stream preloaded from a generated CSV (with invalid ticks), and what the
// engine must make of it.
struct StreamFixture {
  testing::TempDir dir = *testing::TempDir::Create();
  std::string csv_path;
  std::map<std::string, std::string> expected;
  int64_t invalid = 0;  // CSV rows the schema rejects + ticks injected by physics-publish

  explicit StreamFixture(int buckets) {
    int invalid_rows = 0;
    csv_path = dir.File("ticks.csv");
    EXPECT_TRUE(testing::WriteFile(csv_path, MakeCsv(buckets, &invalid_rows)).ok());
    expected = testing::ReplayCsvFile(csv_path, 1).value().states;  // final state per symbol
    const int64_t rows = static_cast<int64_t>(buckets) * 2 * kSymbols.size() + invalid_rows;
    invalid = invalid_rows + rows / kInjectEvery;
  }
  static constexpr int kInjectEvery = 300;

  void Publish(const RedisServer& server) const {
    Process p = Spawn(kPublish, server, {"--to", "stream", "--csv", csv_path, "--rate", "0",
                                         "--invalid-every", absl::StrCat(kInjectEvery)});
    absl::StatusOr<testing::ExitStatus> st = p.Wait(absl::Seconds(20));
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(st->exit_code, 0) << p.ReadStderr();
  }
};

// The DLQ holds exactly the rejected entries, each once, with a reason.
void ExpectDeadLetters(const RedisServer& server, int64_t count) {
  absl::StatusOr<redis::Reply> r = server.Run({"XRANGE", "market:ticks:dlq", "-", "+"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<int64_t>((*r)->elements), count);
  std::set<std::string> ids;
  for (size_t i = 0; i < (*r)->elements; ++i) {
    const redisReply* entry = (*r)->element[i];
    ids.emplace(entry->element[0]->str, entry->element[0]->len);
    std::map<std::string, std::string> fields = FieldMap(*entry->element[1]);
    EXPECT_FALSE(fields["reason"].empty());
    EXPECT_TRUE(fields.count("symbol") && fields.count("timestamp"));
    // The DLQ entry keeps its source's id: the source entry exists and matches.
    absl::StatusOr<redis::Reply> src = server.Run({"XRANGE", "market:ticks", ids.rbegin()->c_str(),
                                                   ids.rbegin()->c_str()});
    ASSERT_TRUE(src.ok());
    EXPECT_EQ((*src)->elements, 1u);
  }
  EXPECT_EQ(static_cast<int64_t>(ids.size()), count);
}

TEST(FeedPubSub, PublishedTicksEndUpInStateAndBadOnesAreRejected) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  const std::vector<std::pair<std::string, std::string>> ns = {{"REDIS_NAMESPACE", "agentic"}};
  Process engine = Spawn(kEngine, server, {"--feed", "pubsub", "--hz", "10"}, ns);
  ASSERT_TRUE(Eventually([&] { return server.Integer({"PUBSUB", "NUMPAT"}) == 1; }, absl::Seconds(5)).ok())
      << engine.ReadStderr();
  Process publisher = Spawn(kPublish, server, {"--to", "pubsub", "--symbols", "SPY,QQQ,IWM",
                                               "--rate", "300", "--duration", "1",
                                               "--invalid-every", "50"}, ns);
  ASSERT_EQ(publisher.Wait(absl::Seconds(10))->exit_code, 0) << publisher.ReadStderr();

  // Until the loop tick after the last published tick has written all three.
  const absl::Status written = Eventually([&]() -> absl::Status {
    for (const char* symbol : {"SPY", "QQQ", "IWM"}) {
      if (const int64_t seq = testing::StateSeq(server, symbol, "agentic:"); seq < 5) {
        return absl::NotFoundError(absl::StrCat(symbol, "'s seq is ", seq));
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(written.ok()) << written << engine.ReadStderr();
  simdjson::dom::parser parser;
  for (const char* symbol : {"SPY", "QQQ", "IWM"}) {
    const std::string json = Get(server, absl::StrCat("agentic:physics:state:", symbol));
    ASSERT_FALSE(json.empty()) << symbol << engine.ReadStderr();
    simdjson::dom::element state;
    ASSERT_FALSE(parser.parse(json).get(state)) << json;
    EXPECT_GE(int64_t(state["seq"]), 5) << json;  // about one update per loop tick
    EXPECT_GT(double(state["price"]), 0) << json;
  }
  EXPECT_EQ(Get(server, "physics:state:SPY"), "");  // everything is namespaced
  absl::StatusOr<redis::Reply> beats = server.Run({"KEYS", "agentic:ops:hb:engine:*"});
  ASSERT_TRUE(beats.ok());
  EXPECT_EQ((*beats)->elements, 1u);
  const std::string log = engine.ReadStderr();
  EXPECT_NE(log.find("rejected tick (pubsub agentic:market.tick."), std::string::npos) << log;
  EXPECT_NE(log.find("tick JSON: "), std::string::npos) << log;
  ExpectPromptCleanExit(engine);
  EXPECT_EQ(server.Integer({"EXISTS", std::string(std::string_view((*beats)->element[0]->str))}), 0)
      << "an orderly stop removes the heartbeat";
}

TEST(FeedStream, FoldsEveryEntryAcksItAndDeadLettersTheInvalidOnes) {
  const StreamFixture fixture(600);
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  fixture.Publish(server);
  Process engine = Spawn(kEngine, server, {"--feed", "stream"});
  ASSERT_TRUE(Eventually([&] { return Drained(server); }, absl::Seconds(20)).ok()) << engine.ReadStderr();

  EXPECT_EQ(States(server), fixture.expected);
  ExpectDeadLetters(server, fixture.invalid);
  const std::string log = engine.ReadStderr();
  EXPECT_NE(log.find("rejected tick (stream market:ticks entry "), std::string::npos) << log;
  ExpectPromptCleanExit(engine);
}

TEST(FeedStreamFaults, RedisKilledTwiceMidStreamLosesNothing) {
  // Every write is fsynced here, so a loop tick costs two disk flushes.
  const StreamFixture fixture(800);
  RedisServer server({.durable = true});
  ASSERT_TRUE(server.Start().ok());
  fixture.Publish(server);
  const int64_t total = server.Integer({"XLEN", "market:ticks"});
  Process engine = Spawn(kEngine, server, {"--feed", "stream"});
  int outages = 0;
  for (const int64_t at : {total / 3, 2 * total / 3}) {
    ASSERT_TRUE(Eventually([&] { return EntriesRead(server) >= at; }, absl::Seconds(20)).ok());
    if (Drained(server)) break;  // too fast to be hit: what follows still holds
    server.Kill();
    ++outages;
    absl::SleepFor(absl::Milliseconds(300));  // the outage: the engine must ride it out
    ASSERT_TRUE(engine.running()) << engine.ReadStderr();
    ASSERT_TRUE(server.Start().ok());
  }
  ASSERT_TRUE(Eventually([&] { return Drained(server); }, absl::Seconds(30)).ok()) << engine.ReadStderr();

  EXPECT_EQ(server.Integer({"XLEN", "market:ticks"}), total) << "the AOF kept the stream";
  EXPECT_EQ(States(server), fixture.expected);
  ExpectDeadLetters(server, fixture.invalid);
  const std::string log = engine.ReadStderr();
  if (outages > 0) {
    EXPECT_NE(log.find("stream market:ticks: Redis at"), std::string::npos) << log;
    EXPECT_NE(log.find("is back; reading on"), std::string::npos) << log;
  }
  ExpectPromptCleanExit(engine);
  ::testing::Test::RecordProperty("redis_outages", outages);
  std::cout << "redis outages mid-stream: " << outages << "\n";
}

TEST(FeedStreamFaults, EngineKilledMidStreamAndRestartedEndsInTheSameState) {
  const StreamFixture fixture(3000);
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  fixture.Publish(server);
  const int64_t total = server.Integer({"XLEN", "market:ticks"});
  {
    Process first = Spawn(kEngine, server, {"--feed", "stream"});
    ASSERT_TRUE(Eventually([&] { return EntriesRead(server) >= total / 2; }, absl::Seconds(20)).ok());
    first.Kill();
  }
  EXPECT_FALSE(Drained(server)) << "the engine finished before it could be killed";
  Process second = Spawn(kEngine, server, {"--feed", "stream"});
  ASSERT_TRUE(Eventually([&] { return Drained(server); }, absl::Seconds(30)).ok()) << second.ReadStderr();

  EXPECT_EQ(States(server), fixture.expected);
  ExpectDeadLetters(server, fixture.invalid);
  const std::string log = second.ReadStderr();
  EXPECT_NE(log.find("warm start done"), std::string::npos) << log;
  // The dead consumer's entries were taken over; only the live consumer is left.
  absl::StatusOr<redis::Reply> consumers =
      server.Run({"XINFO", "CONSUMERS", "market:ticks", "physics-engine"});
  ASSERT_TRUE(consumers.ok());
  EXPECT_EQ((*consumers)->elements, 1u);
  ExpectPromptCleanExit(second);
}

// docs/SPEC.md §9: a standby with the stream feed follows the stream without
// consuming it; when the leader dies it takes the lease, joins the group and
// catches up from where it had followed.
TEST(FeedStreamFaults, LeaderKilledMidStreamAndTheStandbyEndsInTheSameState) {
  const StreamFixture fixture(3000);
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  fixture.Publish(server);
  const int64_t total = server.Integer({"XLEN", "market:ticks"});
  // Two engines: whichever takes the lease first leads, the other stands by.
  const std::vector<std::string> args = {"--feed", "stream", "--leader-lease", "1"};
  Process engines[2] = {Spawn(kEngine, server, args), Spawn(kEngine, server, args)};
  ASSERT_TRUE(Eventually([&] { return EntriesRead(server) >= total / 2; }, absl::Seconds(20)).ok());
  const std::string holder = Get(server, "ops:leader:engine");  // {hostname}-{pid}
  const int leader = absl::EndsWith(holder, absl::StrCat("-", engines[0].pid())) ? 0 : 1;
  ASSERT_TRUE(absl::EndsWith(holder, absl::StrCat("-", engines[leader].pid()))) << holder;
  engines[leader].Kill();
  Process& standby = engines[1 - leader];
  EXPECT_FALSE(Drained(server)) << "the leader finished before it could be killed";
  ASSERT_TRUE(Eventually([&] { return Drained(server); }, absl::Seconds(30)).ok()) << standby.ReadStderr();

  EXPECT_EQ(States(server), fixture.expected);
  ExpectDeadLetters(server, fixture.invalid);
  const std::string log = standby.ReadStderr();
  EXPECT_NE(log.find("leading"), std::string::npos) << log;
  EXPECT_NE(log.find("taking over: followed up to"), std::string::npos) << log;
  EXPECT_NE(log.find("caught up"), std::string::npos) << log;
  EXPECT_EQ(log.find("warm start"), std::string::npos) << log;
  ExpectPromptCleanExit(standby);
}

TEST(FeedSignals, SigtermWhileWaitingForTicksExitsZeroWithinASecond) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  // Each feed waiting: subscribed to the tick channels, or blocked reading
  // the stream.
  const std::pair<const char*, std::function<bool()>> feeds[] = {
      {"pubsub", [&] { return server.Integer({"PUBSUB", "NUMPAT"}) == 1; }},
      {"stream", [&] { return testing::InfoNumber(server, "blocked_clients") == 1; }}};
  for (const auto& [feed, waiting] : feeds) {
    Process engine = Spawn(kEngine, server, {"--feed", feed, "--hz", "0.5"});
    ASSERT_TRUE(Eventually(waiting).ok()) << feed << ": " << engine.ReadStderr();
    ASSERT_TRUE(engine.running()) << engine.ReadStderr();
    ExpectPromptCleanExit(engine);
  }
}

}  // namespace
}  // namespace physics
