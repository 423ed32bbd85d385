// StateWriter against a real redis-server: what goes over the wire per tick.
#include "engine/loop/state_writer.h"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/loop/symbol_book.h"
#include "engine/schema/json_writer.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/sentinel_set.h"

namespace physics::loop {
namespace {

using ::physics::testing::RedisServer;
using ::physics::testing::SentinelSet;

// One tick in which each of `count` symbols trades once.
void Trade(SymbolBook& book, int count, schema::EpochMicros ts) {
  for (int i = 0; i < count; ++i) {
    schema::Tick t;
    t.symbol = absl::StrCat("S", i);
    t.price = 100 + i;
    t.size = 10;
    t.trades = 1;
    t.timestamp = ts;
    book.Accept(t);
  }
}

// The command name of each MONITOR line, e.g. "SET" from
// `1766318400.000001 [0 127.0.0.1:5000] "SET" "physics:state:S0" "{...}"`.
std::string CommandName(std::string_view line) {
  const size_t open = line.find("] \"");
  if (open == std::string_view::npos) return "";
  const size_t start = open + 3;
  return std::string(line.substr(start, line.find('"', start) - start));
}

// "128 x SET, MULTI, 128 x PUBLISH, EXEC, 128 x HSET EXPIRE, ...": runs of the
// same command (or of a symbol's snapshot pair) counted, for readable failures.
std::string Summarize(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, int>> runs;
  for (size_t i = 0; i < names.size();) {
    std::string item = names[i];
    size_t step = 1;
    if (i + 1 < names.size() && names[i] == "HSET" && names[i + 1] == "EXPIRE") {
      item = "HSET EXPIRE";
      step = 2;
    }
    if (!runs.empty() && runs.back().first == item) {
      ++runs.back().second;
    } else {
      runs.emplace_back(item, 1);
    }
    i += step;
  }
  std::string out;
  for (const auto& [item, n] : runs) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", n > 1 ? absl::StrCat(n, " x ") : "", item);
  }
  return out;
}

// Every command Redis executes from now on, in order, until `last` is seen.
class Monitor {
 public:
  explicit Monitor(const RedisServer& server) : conn_(*server.Connect()) {
    EXPECT_TRUE(conn_.Command({"MONITOR"}).ok());
  }
  std::vector<std::string> ReadUntilCount(const std::string& name, int count) {
    std::vector<std::string> names;
    int seen = 0;
    while (seen < count) {
      absl::StatusOr<redis::Reply> r = conn_.ReadReply();
      if (!r.ok()) {
        ADD_FAILURE() << r.status();
        break;
      }
      names.push_back(CommandName(std::string_view((*r)->str, (*r)->len)));
      if (names.back() == name) ++seen;
    }
    return names;
  }

 private:
  redis::Connection conn_;
};

TEST(StateWriter, PublishesFollowTheirStatesInTransactionsOf128AndSnapshotsFollowThem) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  SymbolBook book(100, "");
  StateWriter writer(server.config(), WriterOptions{});
  constexpr int kSymbols = 300;  // 128 + 128 + 44 publishes
  Trade(book, kSymbols, 1766318400LL * 1'000'000);
  book.CloseTick();
  ASSERT_TRUE(writer.Flush(book).ok());  // connects

  Monitor monitor(server);
  Trade(book, kSymbols, 1766318401LL * 1'000'000);
  book.CloseTick([&] { writer.Stream(book); });  // stores stream out mid-tick
  ASSERT_TRUE(writer.Flush(book).ok());

  std::vector<std::string> names = monitor.ReadUntilCount("EXPIRE", kSymbols);
  // The connection's own set-up (PING at connect) comes first.
  while (!names.empty() && names.front() == "PING") names.erase(names.begin());
  // Each transaction follows its symbols' states: 128 at a time while the
  // tick is computed (states stream out every 64 symbols), the rest at the
  // end; their snapshots follow it, so Redis has less to do before it sends
  // the subscribers their messages.
  std::vector<std::string> expected;
  for (const int n : {128, 128, 44}) {
    expected.insert(expected.end(), n, "SET");
    expected.push_back("MULTI");
    expected.insert(expected.end(), n, "PUBLISH");
    expected.push_back("EXEC");
    for (int i = 0; i < n; ++i) expected.insert(expected.end(), {"HSET", "EXPIRE"});
  }
  EXPECT_EQ(Summarize(names), Summarize(expected));
  EXPECT_EQ(writer.counters().error_replies, 0);
  EXPECT_EQ(writer.counters().commands, 2 * (4 * kSymbols + 6));
}

// The snapshot's price is the text of the state's (formatted once): both
// equal the tick's price, also after a later tick re-encodes the state with
// a price of another length.
TEST(StateWriter, TheSnapshotRepeatsTheStatesPriceExactly) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  SymbolBook book(100, "");
  StateWriter writer(server.config(), WriterOptions{});
  for (const double price : {101.0, 450.31999999999999, 0.1 + 0.2}) {
    schema::Tick t;
    t.symbol = "SPY";
    t.price = price;
    t.size = 10;
    t.trades = 1;
    t.timestamp = 1766318400LL * 1'000'000;
    book.Accept(t);
    book.CloseTick();
    ASSERT_TRUE(writer.Flush(book).ok());
    char text[schema::kJsonNumberBufferSize];
    const std::string expected(schema::FormatJsonNumber(price, text));
    EXPECT_EQ(server.String({"HGET", "market:snapshot:SPY", "price"}), expected);
    EXPECT_TRUE(absl::StrContains(server.String({"GET", "physics:state:SPY"}),
                                  absl::StrCat("\"price\":", expected, ",")))
        << server.String({"GET", "physics:state:SPY"});
  }
}

TEST(StateWriter, AnErrorInsideATransactionIsReportedAndTheStoresStand) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  // A user who may store but not publish: each PUBLISH is refused when
  // queued, so EXEC aborts.
  ASSERT_TRUE(server.Run({"ACL", "SETUSER", "storer", "on", ">pw", "~*", "&*", "+@all", "-publish"}).ok());
  redis::Config config = server.config();
  config.user = "storer";
  config.password = "pw";
  SymbolBook book(100, "");
  StateWriter writer(config, WriterOptions{});
  Trade(book, 3, 1766318400LL * 1'000'000);
  book.CloseTick();
  EXPECT_TRUE(writer.Flush(book).ok());  // retrying would fail the same way
  EXPECT_EQ(writer.counters().error_replies, 1);
  EXPECT_NE(server.String({"GET", "physics:state:S2"}), "");
  EXPECT_NE(server.String({"HGET", "market:snapshot:S2", "price"}), "");
  EXPECT_TRUE(book.unwritten().empty());
}

TEST(StateWriter, ReadOnlyFromADemotedMasterKeepsTheStatesForTheNextConnection) {
  RedisServer old_master, new_master;
  ASSERT_TRUE(old_master.Start().ok());
  ASSERT_TRUE(new_master.Start().ok());
  SymbolBook book(100, "");
  StateWriter writer(old_master.config(), WriterOptions{});
  Trade(book, 3, 1766318400LL * 1'000'000);
  book.CloseTick();
  ASSERT_TRUE(writer.Flush(book).ok());
  ASSERT_TRUE(old_master.Run({"REPLICAOF", "127.0.0.1", absl::StrCat(new_master.port())}).ok());

  Trade(book, 3, 1766318401LL * 1'000'000);
  book.CloseTick();
  EXPECT_EQ(writer.Flush(book).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(writer.connected());
  EXPECT_EQ(book.unwritten().size(), 3u);  // to be written after the reconnect
}

// Flush (retried through the reconnect backoff, up to ~1 s) and Settle, once
// Redis is back after an outage.
absl::Status FlushAfterOutage(StateWriter& writer, SymbolBook& book) {
  absl::Status flushed = writer.Flush(book);
  for (int i = 0; i < 50 && absl::IsUnavailable(flushed); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    flushed = writer.Flush(book);
  }
  return flushed.ok() ? writer.Settle(book) : flushed;
}

// The seq of the state stored for `symbol`, -1 when none parses.
int64_t StoredSeq(const RedisServer& server, const std::string& symbol) {
  const std::string key = "physics:state:" + symbol;
  const std::string json = server.String({"GET", key});
  const size_t at = json.find("\"seq\":");
  return at == std::string::npos ? -1 : std::stoll(json.substr(at + 6));
}

// A StateWriter with late replies on a server of its own.
class StateWriterLateReplies : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server.Start().ok());
    writer.emplace(server.config(), Options());
  }
  // Writes a first tick of `count` symbols (connecting) and reads every reply.
  void WriteFirstTick(int count) {
    Trade(book, count, 1766318400LL * 1'000'000);
    book.CloseTick();
    ASSERT_TRUE(writer->Flush(book).ok());
    ASSERT_TRUE(writer->Settle(book).ok());
  }

  static WriterOptions Options() {
    WriterOptions options;
    options.late_replies = true;
    return options;
  }
  RedisServer server;
  SymbolBook book{100, ""};
  std::optional<StateWriter> writer;  // once the server has its port
};

TEST_F(StateWriterLateReplies, FlushDoesNotWaitAndAFailureFoundLaterRewritesTheSymbols) {
  ASSERT_NO_FATAL_FAILURE(WriteFirstTick(3));
  EXPECT_EQ(StoredSeq(server, "S2"), 1);

  // A stalled server: Flush sends and returns without a reply (waiting would
  // fail after the 1 s I/O timeout); the symbols count as written meanwhile.
  ASSERT_TRUE(server.Pause().ok());
  Trade(book, 3, 1766318401LL * 1'000'000);
  book.CloseTick();
  ASSERT_TRUE(writer->Flush(book).ok());
  EXPECT_TRUE(book.unwritten().empty());
  EXPECT_TRUE(writer->connected());

  // It dies before executing them: reading the replies finds the loss, and
  // the symbols are unwritten again, to be written once Redis is back.
  server.Kill();
  EXPECT_EQ(writer->Settle(book).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(writer->connected());
  EXPECT_EQ(book.unwritten().size(), 3u);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(FlushAfterOutage(*writer, book).ok());
  EXPECT_TRUE(book.unwritten().empty());
  EXPECT_EQ(StoredSeq(server, "S0"), 2);
  EXPECT_EQ(StoredSeq(server, "S2"), 2);
}

TEST_F(StateWriterLateReplies, ASymbolComputedAgainWhileItsWriteIsInFlightIsUnwrittenOnce) {
  ASSERT_NO_FATAL_FAILURE(WriteFirstTick(2));

  ASSERT_TRUE(server.Pause().ok());
  Trade(book, 3, 1766318401LL * 1'000'000);  // S0..S2, seq 2 (S2: 1)
  book.CloseTick();
  ASSERT_TRUE(writer->Flush(book).ok());  // in flight, unanswered
  Trade(book, 2, 1766318402LL * 1'000'000);  // S0, S1 again: seq 3
  book.CloseTick();
  server.Kill();
  // The next Flush reads the earlier replies first and finds the loss: S0 and
  // S1 stay unwritten once, with their newest state; S2 is unwritten again.
  EXPECT_EQ(writer->Flush(book).code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(book.unwritten().size(), 3u);
  EXPECT_EQ(book.unwritten()[0]->symbol, "S0");
  EXPECT_EQ(book.unwritten()[1]->symbol, "S1");
  EXPECT_EQ(book.unwritten()[2]->symbol, "S2");
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(FlushAfterOutage(*writer, book).ok());
  EXPECT_EQ(StoredSeq(server, "S0"), 3);
  EXPECT_EQ(StoredSeq(server, "S1"), 3);
  EXPECT_EQ(StoredSeq(server, "S2"), 1);
}

TEST(StateWriter, RetriesAtOnceWhenTheSentinelsAnnounceANewMaster) {
  SentinelSet set({.replicas = 0, .sentinels = 1});
  ASSERT_TRUE(set.Start().ok());
  const redis::Config config = set.config();  // shares its sentinel list with the writer's copy
  SymbolBook book(100, "");
  StateWriter writer(config, WriterOptions{});
  schema::EpochMicros ts = 1766318400LL * 1'000'000;
  auto tick = [&] {
    Trade(book, 3, ts += 1'000'000);
    book.CloseTick();
    return writer.Flush(book);
  };
  ASSERT_TRUE(tick().ok());
  ASSERT_TRUE(set.node(0).Run({"CLIENT", "KILL", "TYPE", "normal"}).ok());
  EXPECT_FALSE(tick().ok());  // the connection is gone: back off 100 ms ...
  EXPECT_EQ(tick().message(), "waiting to reconnect");
  // ... unless the sentinels announce a master meanwhile (here the same one).
  config.sentinels->NoteSwitch({"127.0.0.1", set.node(0).port()});
  EXPECT_TRUE(tick().ok());
  EXPECT_TRUE(book.unwritten().empty());
}

}  // namespace
}  // namespace physics::loop
