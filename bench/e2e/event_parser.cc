#include "bench/e2e/event_parser.h"

#include <charconv>
#include <system_error>

#include "absl/status/statusor.h"

namespace physics::bench::e2e {

std::optional<std::string_view> MessageData(std::string_view payload) {
  // The bridge's wrapper around state_update events, else found by search.
  static constexpr std::string_view kWrapper = R"({"type":"message","channel":"state_update","data":)";
  size_t data = kWrapper.size();
  if (payload.substr(0, kWrapper.size()) != kWrapper) {
    data = payload.find("\"data\":");
    if (payload.compare(0, 17, R"({"type":"message")") != 0 || data == std::string_view::npos) {
      return std::nullopt;
    }
    data += 7;
  }
  return payload.substr(data, payload.size() - data - 1);
}

bool EventParser::Parse(std::string_view event, EventFields& out) {
  if (ParseFixedLayout(event, out)) return true;
  if (!schema::ParseEventHeader(event, /*padded=*/false, header_).ok()) return false;
  out = EventFields{header_.symbol, header_.seq, header_.timestamp.value_or(0)};
  return true;
}

bool EventParser::ParseFixedLayout(std::string_view event, EventFields& out) {
  static constexpr std::string_view kPrefix = R"({"event":"PHYSICS_UPDATE","symbol":")";
  static constexpr std::string_view kTimestamp = R"(","timestamp":")";
  static constexpr std::string_view kSeq = R"(","seq":)";
  if (event.substr(0, kPrefix.size()) != kPrefix) return false;
  const size_t symbol_end = event.find('"', kPrefix.size());
  if (symbol_end == std::string_view::npos) return false;
  const size_t ts = symbol_end + kTimestamp.size();
  const size_t seq = ts + schema::kIso8601MicrosLength + kSeq.size();
  if (event.size() < seq + 1 || event.substr(symbol_end, kTimestamp.size()) != kTimestamp ||
      event.substr(ts + schema::kIso8601MicrosLength, kSeq.size()) != kSeq) {
    return false;
  }
  const std::string_view timestamp = event.substr(ts, schema::kIso8601MicrosLength);
  if (timestamp != timestamp_text_) {
    absl::StatusOr<schema::EpochMicros> t = schema::ParseTimestamp(timestamp);
    if (!t.ok()) return false;
    timestamp_text_.assign(timestamp);
    timestamp_ = *t;
  }
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(event.data() + seq, event.data() + event.size(), n);
  if (ec != std::errc()) return false;
  out.symbol = event.substr(kPrefix.size(), symbol_end - kPrefix.size());
  out.timestamp = timestamp_;
  out.seq = n;
  return true;
}

}  // namespace physics::bench::e2e
