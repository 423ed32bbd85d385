#include "engine/feed/stream_entry.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {
namespace {

bool ParseUint(std::string_view text, uint64_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

std::string Excerpt(std::string_view text) {
  return std::string(text.substr(0, 40)) + (text.size() > 40 ? "..." : "");
}

}  // namespace

std::optional<StreamId> StreamId::Parse(std::string_view text) {
  StreamId id;
  const size_t dash = text.find('-');
  if (!ParseUint(text.substr(0, dash), id.ms)) return std::nullopt;
  if (dash != std::string_view::npos && !ParseUint(text.substr(dash + 1), id.seq)) {
    return std::nullopt;
  }
  return id;
}

void StreamId::AppendTo(std::string& out) const {
  char buf[kMaxStreamIdLength + 7];  // to_chars cannot fail: both numbers fit
  char* end = std::to_chars(buf, buf + 20, ms).ptr;
  *end++ = '-';
  end = std::to_chars(end, buf + sizeof(buf), seq).ptr;
  out.append(buf, end);
}

std::string StreamId::ToString() const {
  std::string out;
  AppendTo(out);
  return out;
}

TickFieldReader::TickFieldReader(schema::Tick& tick) : tick_(tick) { schema::ResetTick(tick_, 0); }

absl::Status TickFieldReader::Read(std::string_view name, std::string_view value) {
  if (name == "symbol") {
    tick_.symbol.assign(value);
    has_symbol_ = true;
    return absl::OkStatus();
  }
  if (name == "timestamp") {
    if (value.empty()) return absl::OkStatus();
    absl::StatusOr<schema::EpochMicros> t = schema::ParseTimestamp(value);
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field timestamp '", Excerpt(value), "': ", t.status().message()));
    }
    tick_.timestamp = *t;
    has_timestamp_ = true;
    return absl::OkStatus();
  }
  struct NumberField {
    std::string_view name;
    double* target;
  };
  const NumberField fields[] = {{"price", &tick_.price}, {"size", &tick_.size},
                                {"trades", &tick_.trades}, {"updates", &tick_.trades},
                                {"bid", &tick_.bid},     {"ask", &tick_.ask}};
  for (const NumberField& f : fields) {
    if (name != f.name) continue;
    if (value.empty()) return absl::OkStatus();  // absent: keep the default
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *f.target);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return absl::InvalidArgumentError(absl::StrCat("field ", std::string(f.name), " '",
                                                     Excerpt(value), "' is not a number"));
    }
    if (f.target == &tick_.price) has_price_ = true;
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status TickFieldReader::Finish(StreamId id) {
  if (!has_symbol_) return absl::InvalidArgumentError("missing field symbol");
  if (!has_price_) return absl::InvalidArgumentError("missing field price");
  if (!has_timestamp_) tick_.timestamp = static_cast<schema::EpochMicros>(id.ms) * 1000;
  return absl::OkStatus();
}

}  // namespace physics::feed
