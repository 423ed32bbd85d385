#include "tests/support/tick_csv.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

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

}  // namespace physics::testing
