#include "engine/schema/tick.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "engine/schema/symbol.h"

namespace physics::schema {
namespace {

absl::Status BadField(std::string_view field, double value, std::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), " ", value, ": ", std::string(rule)));
}

}  // namespace

absl::Status ValidateTick(Tick& tick) {
  if (absl::Status s = NormalizeSymbol(tick.symbol, tick.symbol); !s.ok()) return s;
  if (!(tick.price > 0) || !std::isfinite(tick.price)) {
    return BadField("price", tick.price, "must be > 0 and finite");
  }
  if (!(tick.size >= 0) || !std::isfinite(tick.size)) {
    return BadField("size", tick.size, "must be >= 0 and finite");
  }
  if (!(tick.trades >= 0) || !std::isfinite(tick.trades) || tick.trades != std::floor(tick.trades)) {
    return BadField("trades", tick.trades, "must be an integer >= 0");
  }
  if (!std::isnan(tick.bid) && (!(tick.bid > 0) || !std::isfinite(tick.bid))) {
    return BadField("bid", tick.bid, "must be > 0 and finite when given");
  }
  if (!std::isnan(tick.ask) && (!(tick.ask > 0) || !std::isfinite(tick.ask))) {
    return BadField("ask", tick.ask, "must be > 0 and finite when given");
  }
  if (tick.timestamp <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("timestamp ", tick.timestamp, ": missing"));
  }
  return absl::OkStatus();
}

}  // namespace physics::schema
