// CSV replay (--feed csv:PATH): header timestamp,symbol,price,size,trades,bid,ask
// (columns found by name; "updates" is accepted for trades; bid/ask/size/trades
// may be empty). Loop ticks follow the file's timestamps: a row belongs to
// bucket floor(timestamp * hz), and a loop tick closes when the bucket changes,
// so the same file always gives the same output. A row older than the current
// bucket is folded into the current one. Not thread-safe.
#ifndef PHYSICS_ENGINE_FEED_CSV_FEED_H_
#define PHYSICS_ENGINE_FEED_CSV_FEED_H_

#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/feed/feed.h"

namespace physics::feed {

// Column positions of one CSV file, -1 when absent.
struct CsvColumns {
  int timestamp = -1, symbol = -1, price = -1, size = -1, trades = -1, bid = -1, ask = -1;
  int count = 0;
};

// Parses the header line. kInvalidArgument when timestamp, symbol or price is missing.
absl::StatusOr<CsvColumns> ParseCsvHeader(std::string_view line);

// Parses one data row into `tick` (no validation beyond syntax).
// kInvalidArgument names the bad column.
absl::Status ParseCsvRow(std::string_view line, const CsvColumns& columns, schema::Tick& tick);

class CsvFeed final : public Feed {
 public:
  // Opens `path` and reads its header. kNotFound / kInvalidArgument on failure.
  static absl::StatusOr<std::unique_ptr<CsvFeed>> Open(const std::string& path, double hz);
  ~CsvFeed() override;

  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;
  bool event_time() const override { return true; }

 private:
  CsvFeed(std::FILE* file, std::string path, CsvColumns columns, double hz);
  // Reads the next line into line_; false at end of file.
  bool ReadLine();

  std::FILE* file_;
  std::string path_;
  std::string source_;  // "csv PATH" for log lines
  CsvColumns columns_;
  double hz_;
  int64_t line_number_ = 1;
  char* line_buf_ = nullptr;
  size_t line_cap_ = 0;
  std::string_view line_;
  std::optional<int64_t> bucket_;
  bool pending_ = false;  // tick_ holds a parsed row of the next bucket
  bool ended_ = false;
  schema::Tick tick_;
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_CSV_FEED_H_
