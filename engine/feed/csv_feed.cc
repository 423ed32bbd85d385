#include "engine/feed/csv_feed.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {
namespace {

// Splits `line` at commas into at most `max` fields; returns the count.
template <size_t N>
int SplitFields(std::string_view line, std::array<std::string_view, N>& fields) {
  int count = 0;
  size_t start = 0;
  while (count < static_cast<int>(N)) {
    const size_t comma = line.find(',', start);
    fields[count++] = line.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return count;
}

constexpr size_t kMaxColumns = 32;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

absl::Status ParseNumber(std::string_view text, std::string_view column, double& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("column ", std::string(column), " '",
                                                   absl::CHexEscape(std::string(text.substr(0, 64))),
                                                   "' is not a number"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CsvColumns> ParseCsvHeader(std::string_view line) {
  std::array<std::string_view, kMaxColumns> fields;
  CsvColumns c;
  c.count = SplitFields(Trim(line), fields);
  for (int i = 0; i < c.count; ++i) {
    const std::string_view name = Trim(fields[i]);
    if (name == "timestamp") c.timestamp = i;
    else if (name == "symbol") c.symbol = i;
    else if (name == "price") c.price = i;
    else if (name == "size") c.size = i;
    else if (name == "trades" || name == "updates") c.trades = i;
    else if (name == "bid") c.bid = i;
    else if (name == "ask") c.ask = i;
  }
  if (c.timestamp < 0 || c.symbol < 0 || c.price < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad CSV header '", absl::CHexEscape(std::string(Trim(line).substr(0, 120))),
        "': expected timestamp,symbol,price,size,trades,bid,ask"));
  }
  return c;
}

absl::Status ParseCsvRow(std::string_view line, const CsvColumns& columns, schema::Tick& tick) {
  std::array<std::string_view, kMaxColumns> fields;
  const int count = SplitFields(Trim(line), fields);
  if (count != columns.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", columns.count, " columns, found ", count));
  }
  absl::StatusOr<schema::EpochMicros> ts = schema::ParseTimestamp(Trim(fields[columns.timestamp]));
  if (!ts.ok()) return ts.status();
  tick.timestamp = *ts;
  tick.symbol.assign(Trim(fields[columns.symbol]));
  if (absl::Status s = ParseNumber(Trim(fields[columns.price]), "price", tick.price); !s.ok()) {
    return s;
  }
  // Optional columns: empty means the SPEC default (size 0, trades 1, no quote).
  struct Optional {
    int column;
    std::string_view name;
    double* target;
    double fallback;
  };
  const Optional optional[] = {{columns.size, "size", &tick.size, 0},
                               {columns.trades, "trades", &tick.trades, 1},
                               {columns.bid, "bid", &tick.bid, NAN},
                               {columns.ask, "ask", &tick.ask, NAN}};
  for (const Optional& o : optional) {
    const std::string_view text = o.column < 0 ? std::string_view() : Trim(fields[o.column]);
    if (text.empty()) {
      *o.target = o.fallback;
    } else if (absl::Status s = ParseNumber(text, o.name, *o.target); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CsvFile>> CsvFile::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open CSV file '", path, "'"));
  }
  std::unique_ptr<CsvFile> csv(new CsvFile(file, path));
  if (!csv->ReadLine()) {
    return absl::InvalidArgumentError(absl::StrCat("CSV file '", path, "' is empty: expected a header"));
  }
  absl::StatusOr<CsvColumns> columns = ParseCsvHeader(csv->line_);
  if (!columns.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", columns.status().message()));
  }
  csv->columns_ = *columns;
  return csv;
}

CsvFile::~CsvFile() {
  std::fclose(file_);
  std::free(line_buf_);
}

bool CsvFile::ReadLine() {
  const ssize_t n = ::getline(&line_buf_, &line_cap_, file_);
  if (n < 0) return false;
  ++line_number_;
  line_ = std::string_view(line_buf_, static_cast<size_t>(n));
  while (!line_.empty() && (line_.back() == '\n' || line_.back() == '\r')) line_.remove_suffix(1);
  return true;
}

absl::StatusOr<std::unique_ptr<CsvFeed>> CsvFeed::Open(const std::string& path, double hz) {
  absl::StatusOr<std::unique_ptr<CsvFile>> file = CsvFile::Open(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<CsvFeed>(new CsvFeed(std::move(*file), hz));
}

CsvFeed::CsvFeed(std::unique_ptr<CsvFile> file, double hz)
    : file_(std::move(file)), source_("csv " + file_->path()), hz_(hz) {}

absl::StatusOr<PollResult> CsvFeed::Poll(SteadyTime /*deadline*/, TickSink& sink,
                                         const Interrupt& interrupted) {
  if (ended_) return PollResult::kEnd;
  if (pending_) {
    pending_ = false;
    bucket_ = EventBucket(tick_.timestamp, hz_);
    sink.Accept(tick_);
  }
  while (!interrupted.requested()) {
    if (!file_->ReadLine()) {
      if (file_->failed()) {
        return absl::DataLossError(absl::StrCat("read error in CSV file '", file_->path(), "'"));
      }
      ended_ = true;
      return bucket_ ? PollResult::kCloseTick : PollResult::kEnd;
    }
    if (file_->line().empty()) continue;
    const TickOrigin origin{source_, file_->line_number()};
    if (absl::Status s = ParseCsvRow(file_->line(), file_->columns(), tick_); !s.ok()) {
      sink.Reject(origin, s);
      continue;
    }
    if (absl::Status s = schema::ValidateTick(tick_); !s.ok()) {
      sink.Reject(origin, s);
      continue;
    }
    const int64_t bucket = EventBucket(tick_.timestamp, hz_);
    if (!bucket_ || bucket <= *bucket_) {
      if (!bucket_) bucket_ = bucket;
      sink.Accept(tick_);
      continue;
    }
    pending_ = true;  // first row of the next bucket: it opens the next loop tick
    return PollResult::kCloseTick;
  }
  return PollResult::kCloseTick;
}

}  // namespace physics::feed
