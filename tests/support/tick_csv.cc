#include "tests/support/tick_csv.h"

#include <cstdint>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace physics::testing {

const std::vector<std::string> kTickCsvSymbols = {"SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA"};

std::string MakeTickCsv(int buckets, int* invalid_rows) {
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
      for (size_t s = 0; s < kTickCsvSymbols.size(); ++s) {
        price[s] *= 1 + 0.004 * (next() - 0.5) + (next() < 0.05 ? 0.03 * (next() - 0.5) : 0);
        const int micros = static_cast<int>(next() * 999999);
        absl::StrAppend(&csv, t, ".", absl::Dec(micros, absl::kZeroPad6), ",", kTickCsvSymbols[s], ",",
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

namespace {

// The epoch second a CSV line starts with (none for the header).
std::optional<int64_t> SecondOf(const std::string& line) {
  int64_t ts = 0;
  if (!absl::SimpleAtoi(line.substr(0, line.find_first_of(".,")), &ts)) return std::nullopt;
  return ts;
}

}  // namespace

std::string TickCsvRowsBefore(const std::string& csv, int64_t ts) {
  std::string out;
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(csv, '\n', absl::SkipEmpty()))) {
    if (std::optional<int64_t> t = SecondOf(line); !t || *t < ts) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

absl::Status AppendTickCsvRowsAtomically(const RedisServer& server, const std::string& csv, int64_t from_ts,
                                         int64_t to_ts,
                                         const std::function<std::string(const std::string&)>& stream_of) {
  absl::StatusOr<redis::Connection> conn = server.Connect();
  if (!conn.ok()) return conn.status();
  if (absl::StatusOr<redis::Reply> r = conn->Command({"MULTI"}); !r.ok()) return r.status();
  const char* kNames[] = {"timestamp", "symbol", "price", "size", "trades", "bid", "ask"};
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(csv, '\n', absl::SkipEmpty()))) {
    const std::vector<std::string> cells = absl::StrSplit(line, ',');
    const std::optional<int64_t> ts = SecondOf(line);
    if (cells.size() != 7 || !ts || *ts < from_ts || *ts >= to_ts) continue;
    std::vector<std::string> argv = {"XADD", stream_of(cells[1]), "*"};
    for (size_t c = 0; c < cells.size(); ++c) {
      argv.push_back(kNames[c]);
      argv.push_back(cells[c]);
    }
    const std::vector<std::string_view> views(argv.begin(), argv.end());
    if (absl::StatusOr<redis::Reply> r = conn->Command(views); !r.ok()) return r.status();
  }
  absl::StatusOr<redis::Reply> exec = conn->Command({"EXEC"});
  if (!exec.ok()) return exec.status();
  if ((*exec)->type != REDIS_REPLY_ARRAY) return absl::InternalError("EXEC aborted");
  return absl::OkStatus();
}

}  // namespace physics::testing
