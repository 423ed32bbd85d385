#include "engine/loop/symbol_commands.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace physics::loop {

SnapshotHSet::SnapshotHSet(const SymbolState& s) {
  // A quote never seen is written as an empty field rather than a made-up price.
  const std::string_view bid = std::isnan(s.bid) ? "" : schema::FormatJsonNumber(s.bid, bid_);
  const std::string_view ask = std::isnan(s.ask) ? "" : schema::FormatJsonNumber(s.ask, ask_);
  const auto seconds_end = std::to_chars(seconds_, seconds_ + sizeof(seconds_), s.timestamp / 1'000'000).ptr;
  // The state's own price text (formatted once, and the same price).
  argv_ = {"HSET", s.snapshot_key, "price", s.price_text.In(s.state_json), "volume",
           schema::FormatJsonNumber(s.volume, volume_), "bid", bid, "ask", ask, "timestamp",
           std::string_view(seconds_, static_cast<size_t>(seconds_end - seconds_))};
}

SymbolCommands::SymbolCommands(int64_t state_ttl_seconds, int64_t snapshot_ttl_seconds)
    : state_ttl_text_(state_ttl_seconds > 0 ? absl::StrCat(state_ttl_seconds) : ""),
      snapshot_ttl_text_(absl::StrCat(snapshot_ttl_seconds)) {}

Argv<5> SymbolCommands::StateSet(const SymbolState& s) const {
  if (state_ttl_text_.empty()) return {{"SET", s.state_key, s.state_json}, 3};
  return {{"SET", s.state_key, s.state_json, "EX", state_ttl_text_}, 5};
}

}  // namespace physics::loop
