// Fuzzes schema::ParseTickJson then schema::ValidateTick on untrusted bytes
// (a market.tick.* message). Checks: errors are one line; an accepted tick
// meets docs/SPEC.md §4; AppendTickJson's output parses back to the same tick.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/schema/tick.h"
#include "engine/schema/tick_json.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

constexpr schema::EpochMicros kArrival = 1766318400'123456;

std::string Show(const schema::Tick& t) {
  return absl::StrCat("{symbol=", t.symbol, " price=", t.price, " size=", t.size,
                      " trades=", t.trades, " bid=", t.bid, " ask=", t.ask, " ts=", t.timestamp, "}");
}

void FuzzOne(std::string_view json) {
  schema::Tick tick;
  if (absl::Status s = schema::ParseTickJson(json, kArrival, tick); !s.ok()) {
    Check(IsOneLine(s.message()), "tick JSON error is one line", s.message());
    return;
  }
  if (absl::Status s = schema::ValidateTick(tick); !s.ok()) {
    Check(IsOneLine(s.message()), "tick validation error is one line", s.message());
    return;
  }
  CheckValidTick(tick);

  std::string written;
  schema::AppendTickJson(tick, written);
  schema::Tick back;
  const absl::Status reparsed = schema::ParseTickJson(written, /*arrival=*/1, back);
  Check(reparsed.ok(), "AppendTickJson output parses", absl::StrCat(written, " -> ", reparsed.message()));
  Check(schema::ValidateTick(back).ok(), "AppendTickJson output validates", written);
  Check(SameTick(tick, back), "tick JSON round trip",
        absl::StrCat(Show(tick), " -> ", written, " -> ", Show(back)));
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  physics::fuzz::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
