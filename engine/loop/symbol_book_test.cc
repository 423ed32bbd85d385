#include "engine/loop/symbol_book.h"

#include <set>

#include "engine/feed/sim_feed.h"
#include "engine/loop/counting_new.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace physics::loop {
namespace {

schema::Tick MakeTick(std::string symbol, double price, double size, double trades,
                      schema::EpochMicros ts) {
  schema::Tick t;
  t.symbol = std::move(symbol);
  t.price = price;
  t.size = size;
  t.trades = trades;
  t.timestamp = ts;
  return t;
}

constexpr schema::EpochMicros kNoon = 1766318400LL * 1'000'000;

TEST(SymbolBook, FoldsTicksOfOneLoopTickIntoOneObservation) {
  SymbolBook book(100, "");
  schema::Tick a = MakeTick("SPY", 450, 100, 2, kNoon);
  a.bid = 449.9;
  book.Accept(a);
  book.Accept(MakeTick("SPY", 451, 50, 3, kNoon + 500));
  EXPECT_EQ(book.CloseTick(), 1u);
  const SymbolState* s = book.Find("SPY");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->price, 451);
  EXPECT_EQ(s->volume, 150);
  EXPECT_EQ(s->trades, 5);
  EXPECT_EQ(s->bid, 449.9);  // last seen bid survives a tick without one
  EXPECT_EQ(s->timestamp, kNoon + 500);
  EXPECT_EQ(s->seq, 1);
  EXPECT_EQ(s->window.size(), 1u);

  simdjson::dom::parser parser;
  simdjson::dom::element state = parser.parse(s->state_json);
  EXPECT_EQ(double(state["price"]), 451);
  EXPECT_EQ(int64_t(state["seq"]), 1);
  EXPECT_EQ(std::string_view(state["timestamp"]), "2025-12-21T12:00:00.000500Z");
  EXPECT_EQ(std::string_view(state["regime"]), "WAIT");
  EXPECT_EQ(double(state["friction"]), 5.0 / 150);
}

TEST(SymbolBook, RaiseSeqsContinuesStoredSeqsOfKnownAndNewSymbols) {
  SymbolBook book(16, "");
  book.Accept(MakeTick("SPY", 1, 1, 1, kNoon));
  book.Accept(MakeTick("QQQ", 1, 1, 1, kNoon));
  book.CloseTick();
  book.MarkAllWritten();  // both at seq 1
  book.RaiseSeqs({{"SPY", 40}, {"QQQ", 0}, {"IWM", 7}});
  for (const char* symbol : {"SPY", "QQQ", "IWM"}) {
    book.Accept(MakeTick(symbol, 2, 1, 1, kNoon + 1'000'000));
  }
  book.CloseTick();
  EXPECT_EQ(book.Find("SPY")->seq, 41);  // stored + 1
  EXPECT_EQ(book.Find("QQQ")->seq, 2);   // its own was ahead: never backwards
  EXPECT_EQ(book.Find("IWM")->seq, 8);   // first seen after the takeover
}

TEST(SymbolBook, OnlySymbolsThatTradedAreUpdated) {
  SymbolBook book(100, "");
  book.Accept(MakeTick("SPY", 1, 1, 1, kNoon));
  book.Accept(MakeTick("QQQ", 1, 1, 1, kNoon));
  book.CloseTick();
  book.MarkAllWritten();
  book.Accept(MakeTick("QQQ", 2, 1, 1, kNoon + 1'000'000));
  EXPECT_EQ(book.CloseTick(), 1u);
  EXPECT_EQ(book.Find("SPY")->seq, 1);
  EXPECT_EQ(book.Find("QQQ")->seq, 2);
  ASSERT_EQ(book.unwritten().size(), 1u);
  EXPECT_EQ(book.unwritten()[0]->symbol, "QQQ");
  EXPECT_EQ(book.CloseTick(), 0u);  // no ticks, no updates
}

TEST(SymbolBook, UnwrittenKeepsOnlyTheLatestStatePerSymbol) {
  SymbolBook book(100, "");
  for (int i = 0; i < 5; ++i) {
    book.Accept(MakeTick("SPY", 100 + i, 1, 1, kNoon + i));
    book.CloseTick();
  }
  ASSERT_EQ(book.unwritten().size(), 1u);
  EXPECT_EQ(book.unwritten()[0]->seq, 5);
  EXPECT_NE(book.unwritten()[0]->state_json.find("\"seq\":5"), std::string::npos);
}

TEST(SymbolBook, MarkWrittenExceptKeepsTheNamedSymbolsForTheNextWrite) {
  SymbolBook book(100, "");
  for (const char* symbol : {"A", "B", "C", "D"}) book.Accept(MakeTick(symbol, 10, 1, 1, kNoon));
  book.CloseTick();
  ASSERT_EQ(book.unwritten().size(), 4u);
  const std::vector<uint32_t> kept = {3, 1, 3};  // D and B did not land
  book.MarkWrittenExcept(kept);
  ASSERT_EQ(book.unwritten().size(), 2u);
  EXPECT_EQ(book.unwritten()[0]->symbol, "B");
  EXPECT_EQ(book.unwritten()[1]->symbol, "D");
  // Next loop tick: A trades again and joins B and D once; D's newer state replaces its old one.
  book.Accept(MakeTick("A", 11, 1, 1, kNoon + 1));
  book.Accept(MakeTick("D", 11, 1, 1, kNoon + 1));
  book.CloseTick();
  ASSERT_EQ(book.unwritten().size(), 3u);
  EXPECT_EQ(book.Find("D")->seq, 2);
  book.MarkWrittenExcept({});
  EXPECT_TRUE(book.unwritten().empty());
}

TEST(SymbolBook, EventCarriesTheStateVerbatimWithAlphaAlias) {
  SymbolBook book(100, "");
  book.Accept(MakeTick("SPY", 450.5, 10, 1, kNoon));
  book.CloseTick();
  const SymbolState* s = book.Find("SPY");
  const std::string expected_tail = s->state_json.substr(1) + "}";
  const std::string prefix =
      R"({"event":"PHYSICS_UPDATE","symbol":"SPY","timestamp":"2025-12-21T12:00:00.000000Z",)"
      R"("seq":1,"data":{"alpha":0,)";
  EXPECT_EQ(s->event_json.substr(0, prefix.size()), prefix);
  EXPECT_EQ(s->event_json.substr(s->event_json.size() - expected_tail.size()), expected_tail);
}

TEST(SymbolBook, KeysCarryTheNamespace) {
  SymbolBook book(10, "agentic:");
  book.Accept(MakeTick("SPY", 1, 1, 1, kNoon));
  EXPECT_EQ(book.Find("SPY")->state_key, "agentic:physics:state:SPY");
  EXPECT_EQ(book.Find("SPY")->snapshot_key, "agentic:market:snapshot:SPY");
}

TEST(SymbolBook, SteadyStateLoopTickAllocatesNothing) {
  SymbolBook book(200, "");
  std::vector<schema::Tick> ticks;
  for (const std::string& sym : feed::DefaultSymbols(50)) ticks.push_back(MakeTick(sym, 100, 1, 1, kNoon));
  auto one_tick = [&](int i) {
    for (schema::Tick& t : ticks) {
      t.price = 100 + (i * 7919 % 13) * 0.25 + (t.symbol.size() % 3);
      t.size = 1 + i % 5;
      book.Accept(t);
    }
    book.CloseTick();
    book.MarkAllWritten();
  };
  for (int i = 0; i < 300; ++i) one_tick(i);  // warm up past the window size
  const int64_t before = testing::AllocationsSoFar();
  for (int i = 300; i < 400; ++i) one_tick(i);
  EXPECT_EQ(testing::AllocationsSoFar() - before, 0);
}

TEST(SymbolBook, SimulatorShowsEveryRegimeWithinAFewHundredTicks) {
  SymbolBook book(1000, "");
  feed::SimFeed sim(feed::DefaultSymbols(30), 42);
  std::set<std::string> regimes;
  simdjson::dom::parser parser;
  for (int i = 0; i < 300; ++i) {
    sim.GenerateBurst(kNoon + i * 1'000'000LL, book);
    book.CloseTick();
    for (const SymbolState* s : book.unwritten()) {
      regimes.insert(std::string(std::string_view(parser.parse(s->state_json)["regime"])));
    }
    book.MarkAllWritten();
  }
  EXPECT_EQ(regimes, (std::set<std::string>{"WAIT", "Gaussian", "Levy", "Critical"}));
}

}  // namespace
}  // namespace physics::loop
