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
#include <string_view>
#include <utility>

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

// A CSV file read line by line for CSV replay and physics-publish: opened
// with its header parsed, then one line at a time (line endings stripped).
// Not thread-safe.
class CsvFile {
 public:
  // Opens `path` and parses its header. kNotFound / kInvalidArgument naming
  // the file.
  static absl::StatusOr<std::unique_ptr<CsvFile>> Open(const std::string& path);
  ~CsvFile();
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;

  // Reads the next line (possibly empty) into line(); false at end of file
  // or on a read error (then failed()).
  bool ReadLine();
  std::string_view line() const { return line_; }
  // The 1-based number of line() in the file (the header is line 1).
  int64_t line_number() const { return line_number_; }
  bool failed() const { return std::ferror(file_) != 0; }
  const CsvColumns& columns() const { return columns_; }
  const std::string& path() const { return path_; }

 private:
  CsvFile(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}

  std::FILE* file_;
  std::string path_;
  CsvColumns columns_;
  char* line_buf_ = nullptr;
  size_t line_cap_ = 0;
  std::string_view line_;
  int64_t line_number_ = 0;
};

class CsvFeed final : public Feed {
 public:
  // Opens `path` and reads its header. kNotFound / kInvalidArgument on failure.
  static absl::StatusOr<std::unique_ptr<CsvFeed>> Open(const std::string& path, double hz);
  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override;
  bool event_time() const override { return true; }

 private:
  CsvFeed(std::unique_ptr<CsvFile> file, double hz);

  std::unique_ptr<CsvFile> file_;
  std::string source_;  // "csv PATH" for log lines
  double hz_;
  std::optional<int64_t> bucket_;
  bool pending_ = false;  // tick_ holds a parsed row of the next bucket
  bool ended_ = false;
  schema::Tick tick_;
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_CSV_FEED_H_
