#include "engine/feed/csv_feed.h"

#include <unistd.h>

#include <fstream>
#include <vector>

#include "gtest/gtest.h"

namespace physics::feed {
namespace {

class NeverInterrupted : public Interrupt {
 public:
  bool requested() const override { return false; }
  bool WaitUntil(SteadyTime) const override { return false; }
};

class RecordingSink : public TickSink {
 public:
  void Accept(const schema::Tick& tick) override { ticks.push_back(tick); }
  void Reject(const TickOrigin& origin, const absl::Status& why) override {
    rejected_lines.push_back(origin.line);
    reasons.push_back(std::string(why.message()));
  }
  std::vector<schema::Tick> ticks;
  std::vector<int64_t> rejected_lines;
  std::vector<std::string> reasons;
};

std::string WriteTemp(const std::string& content) {
  std::string path = ::testing::TempDir() + "/csv_feed_test_" + std::to_string(::getpid()) + "_" +
                     std::to_string(rand()) + ".csv";
  std::ofstream(path) << content;
  return path;
}

// Polls until the end, returning the number of ticks folded per loop tick.
std::vector<size_t> Replay(CsvFeed& feed, RecordingSink& sink) {
  std::vector<size_t> per_tick;
  NeverInterrupted never;
  size_t before = 0;
  while (true) {
    absl::StatusOr<PollResult> r = feed.Poll(SteadyTime{}, sink, never);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || *r == PollResult::kEnd) break;
    per_tick.push_back(sink.ticks.size() - before);
    before = sink.ticks.size();
  }
  return per_tick;
}

TEST(CsvHeader, FindsColumnsByNameAndAcceptsUpdatesAlias) {
  absl::StatusOr<CsvColumns> c = ParseCsvHeader("symbol,timestamp,price,updates\r");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->symbol, 0);
  EXPECT_EQ(c->timestamp, 1);
  EXPECT_EQ(c->trades, 3);
  EXPECT_EQ(c->bid, -1);
  EXPECT_FALSE(ParseCsvHeader("time,sym,px").ok());
}

// Found by tests/fuzz (fuzz_csv_row): the header was quoted raw in the error.
TEST(CsvHeader, ErrorMessageIsOneLine) {
  absl::StatusOr<CsvColumns> c = ParseCsvHeader("symbol\ttimestamp,price,updates\rS2\xcc");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find_first_of("\r\n"), std::string::npos) << c.status().message();
}

TEST(CsvRow, EmptyOptionalColumnsTakeSpecDefaults) {
  CsvColumns c = *ParseCsvHeader("timestamp,symbol,price,size,trades,bid,ask");
  schema::Tick t;
  ASSERT_TRUE(ParseCsvRow("1766318400.5,spy,450.25,,,,", c, t).ok());
  EXPECT_EQ(t.timestamp, 1766318400500000);
  EXPECT_EQ(t.symbol, "spy");
  EXPECT_EQ(t.price, 450.25);
  EXPECT_EQ(t.size, 0);
  EXPECT_EQ(t.trades, 1);
  EXPECT_TRUE(std::isnan(t.bid));
}

TEST(CsvRow, NamesTheBadColumn) {
  CsvColumns c = *ParseCsvHeader("timestamp,symbol,price,size,trades,bid,ask");
  schema::Tick t;
  EXPECT_NE(ParseCsvRow("1766318400,SPY,abc,1,1,,", c, t).message().find("price"), std::string::npos);
  EXPECT_NE(ParseCsvRow("1766318400,SPY,1,1,1", c, t).message().find("columns"), std::string::npos);
  EXPECT_NE(ParseCsvRow("yesterday,SPY,1,1,1,,", c, t).message().find("timestamp"), std::string::npos);
}

// Found by tests/fuzz (fuzz_csv_row): control characters of a bad value were
// quoted raw, so one rejected row could print several log lines.
TEST(CsvRow, ErrorMessagesAreOneLine) {
  CsvColumns c = *ParseCsvHeader("timestamp,symbol,price");
  schema::Tick t;
  using namespace std::string_literals;
  const std::string bad_time = "18\xd0\r\x01\x00@`\x00\x00,SPY,abc"s;
  const std::string bad_price = "1766318400,SPY,1\r\n2";
  for (const std::string& row : {bad_time, bad_price}) {
    const absl::Status s = ParseCsvRow(row, c, t);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message().find_first_of("\r\n"), std::string::npos) << s.message();
  }
  EXPECT_NE(ParseCsvRow(bad_price, c, t).message().find("'1\\r\\n2'"), std::string::npos);
}

TEST(CsvFeed, ClosesALoopTickWhenTheBucketChanges) {
  const std::string path = WriteTemp(
      "timestamp,symbol,price,size,trades,bid,ask\n"
      "1766318400.1,SPY,450,1,1,,\n"
      "1766318400.9,QQQ,380,1,1,,\n"
      "1766318401.0,SPY,451,1,1,,\n"
      "1766318403.5,SPY,452,1,1,,\n"
      "1766318403.6,SPY,453,1,1,,\n");
  auto feed = CsvFeed::Open(path, 1.0);
  ASSERT_TRUE(feed.ok());
  RecordingSink sink;
  EXPECT_EQ(Replay(**feed, sink), (std::vector<size_t>{2, 1, 2}));
}

TEST(CsvFeed, BucketsFollowHz) {
  const std::string path = WriteTemp(
      "timestamp,symbol,price\n"
      "1766318400.01,SPY,1\n1766318400.02,SPY,1\n1766318400.11,SPY,1\n");
  RecordingSink sink;
  EXPECT_EQ(Replay(**CsvFeed::Open(path, 10.0), sink), (std::vector<size_t>{2, 1}));
}

TEST(CsvFeed, LateRowsFoldIntoTheCurrentBucket) {
  const std::string path = WriteTemp(
      "timestamp,symbol,price\n1766318402,SPY,1\n1766318401,SPY,2\n1766318403,SPY,3\n");
  RecordingSink sink;
  EXPECT_EQ(Replay(**CsvFeed::Open(path, 1.0), sink), (std::vector<size_t>{2, 1}));
}

TEST(CsvFeed, BadRowsAreRejectedWithLineNumbersAndSkipped) {
  const std::string path = WriteTemp(
      "timestamp,symbol,price,size,trades,bid,ask\n"
      "1766318400,SPY,450,1,1,,\n"
      "1766318400,SPY,-1,1,1,,\n"
      "1766318400,SP Y,450,1,1,,\n"
      "garbage\n"
      "1766318400,SPY,nan,1,1,,\n"
      "1766318400,SPY,450,-3,1,,\n"
      "1766318400,SPY,451,2,1,,\n");
  RecordingSink sink;
  Replay(**CsvFeed::Open(path, 1.0), sink);
  EXPECT_EQ(sink.ticks.size(), 2u);
  EXPECT_EQ(sink.rejected_lines, (std::vector<int64_t>{3, 4, 5, 6, 7}));
  EXPECT_NE(sink.reasons[0].find("price"), std::string::npos);
  EXPECT_NE(sink.reasons[1].find("symbol"), std::string::npos);
}

TEST(CsvFeed, MissingFileAndBadHeaderAreClearErrors) {
  EXPECT_EQ(CsvFeed::Open("/nonexistent/x.csv", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CsvFeed::Open(WriteTemp("a,b,c\n"), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CsvFeed::Open(WriteTemp(""), 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvFeed, HeaderOnlyFileEndsAtOnce) {
  RecordingSink sink;
  EXPECT_TRUE(Replay(**CsvFeed::Open(WriteTemp("timestamp,symbol,price\n"), 1), sink).empty());
}

}  // namespace
}  // namespace physics::feed
