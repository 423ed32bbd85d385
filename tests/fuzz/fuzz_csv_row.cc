// Fuzzes the CSV replay parsers: the first line of the input is the header
// (feed::ParseCsvHeader), every further line a row (feed::ParseCsvRow, then
// schema::ValidateTick), as CsvFeed reads a file. Checks: a parsed header's
// required columns exist and are distinct; errors are one line; an accepted
// row meets docs/SPEC.md §4 and survives the tick JSON writer and parser unchanged
// (so csv and pubsub feeds agree on the same tick).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/feed/csv_feed.h"
#include "engine/schema/tick.h"
#include "engine/schema/tick_json.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

// Splits off the first line, without its "\n" (CsvFeed also strips "\r").
std::string_view TakeLine(std::string_view& rest) {
  const size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void CheckHeader(const feed::CsvColumns& c) {
  for (const int column : {c.timestamp, c.symbol, c.price}) {
    Check(column >= 0 && column < c.count, "CSV header: required column inside the row");
  }
  for (const int column : {c.size, c.trades, c.bid, c.ask}) {
    Check(column >= -1 && column < c.count, "CSV header: optional column inside the row or -1");
  }
  const int all[] = {c.timestamp, c.symbol, c.price, c.size, c.trades, c.bid, c.ask};
  for (int i = 0; i < 7; ++i) {
    for (int j = i + 1; j < 7; ++j) {
      Check(all[i] < 0 || all[i] != all[j], "CSV header: two fields read from one column");
    }
  }
}

void FuzzOne(std::string_view input) {
  const std::string_view header = TakeLine(input);
  absl::StatusOr<feed::CsvColumns> columns = feed::ParseCsvHeader(header);
  if (!columns.ok()) {
    Check(IsOneLine(columns.status().message()), "CSV header error is one line",
          columns.status().message());
    return;
  }
  CheckHeader(*columns);
  schema::Tick tick;
  std::string json;
  while (!input.empty()) {
    const std::string_view line = TakeLine(input);
    if (line.empty()) continue;  // CsvFeed skips blank lines
    if (absl::Status s = feed::ParseCsvRow(line, *columns, tick); !s.ok()) {
      Check(IsOneLine(s.message()), "CSV row error is one line", s.message());
      continue;
    }
    if (absl::Status s = schema::ValidateTick(tick); !s.ok()) {
      Check(IsOneLine(s.message()), "CSV tick validation error is one line", s.message());
      continue;
    }
    CheckValidTick(tick);
    json.clear();
    schema::AppendTickJson(tick, json);
    schema::Tick back;
    Check(schema::ParseTickJson(json, /*arrival=*/1, back).ok() && schema::ValidateTick(back).ok() &&
              SameTick(tick, back),
          "a valid CSV tick survives the tick JSON writer and parser", absl::StrCat(std::string(line), " -> ", json));
  }
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  physics::fuzz::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
