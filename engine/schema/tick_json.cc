#include "engine/schema/tick_json.h"

#include <charconv>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/schema/json_writer.h"
#include "simdjson.h"

namespace physics::schema {
namespace {

using simdjson::ondemand::json_type;

// The per-thread parser and padded copy buffer, reused for every tick as
// simdjson recommends (no allocation once both have grown to a tick's size).
struct ThreadParser {
  simdjson::ondemand::parser parser;
  std::string buffer;
};

ThreadParser& Parser() {
  thread_local ThreadParser parser;
  return parser;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("tick JSON: ", std::string(what)));
}

// Shortened and escaped for error messages: a hostile value must neither
// flood the log nor break its line.
std::string Excerpt(std::string_view text) {
  return absl::CHexEscape(std::string(text.substr(0, 40))) + (text.size() > 40 ? "..." : "");
}

enum class Presence { kValue, kNull };

// Reads a number, or a string holding one. `null` gives kNull.
absl::StatusOr<Presence> ReadNumber(simdjson::ondemand::value value, std::string_view name,
                                    double& out) {
  json_type type;
  if (value.type().get(type)) return Bad(absl::StrCat(std::string(name), ": malformed value"));
  switch (type) {
    case json_type::null:
      return Presence::kNull;
    case json_type::number:
      if (value.get_double().get(out)) {
        return Bad(absl::StrCat(std::string(name), ": number out of range"));
      }
      return Presence::kValue;
    case json_type::string: {
      std::string_view text;
      if (value.get_string().get(text)) {
        return Bad(absl::StrCat(std::string(name), ": malformed string"));
      }
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
        return Bad(absl::StrCat(std::string(name), " '", Excerpt(text), "' is not a number"));
      }
      return Presence::kValue;
    }
    default:
      return Bad(absl::StrCat(std::string(name), ": expected a number"));
  }
}

// Epoch seconds in AppendEpochSeconds' form (digits, at most six decimals),
// converted from the text exactly: a double holds too few digits for seconds
// and microseconds after 2255, so a tick's own JSON would not read back.
bool ReadExactEpochSeconds(std::string_view token, EpochMicros& out) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);  // raw_json_token() keeps the whitespace after it
  }
  const size_t dot = token.find('.');
  if (token.empty() || token.find_first_not_of("0123456789.") != std::string_view::npos ||
      (dot != std::string_view::npos && token.size() - dot - 1 > 6)) {
    return false;
  }
  absl::StatusOr<EpochMicros> t = ParseTimestamp(token);
  if (!t.ok()) return false;
  out = *t;
  return true;
}

// timestamp: epoch seconds as a number, or a string ParseTimestamp accepts.
absl::StatusOr<Presence> ReadTimestamp(simdjson::ondemand::value value, EpochMicros& out) {
  json_type type;
  if (value.type().get(type)) return Bad("timestamp: malformed value");
  if (type == json_type::null) return Presence::kNull;
  if (type == json_type::number) {
    if (ReadExactEpochSeconds(value.raw_json_token(), out)) return Presence::kValue;
    double seconds;
    if (value.get_double().get(seconds)) return Bad("timestamp: number out of range");
    absl::StatusOr<EpochMicros> t = EpochMicrosFromSeconds(seconds);
    if (!t.ok()) return Bad(absl::StrCat("timestamp ", seconds, ": ", t.status().message()));
    out = *t;
    return Presence::kValue;
  }
  std::string_view text;
  if (type != json_type::string || value.get_string().get(text)) {
    return Bad("timestamp: expected epoch seconds or an ISO 8601 string");
  }
  absl::StatusOr<EpochMicros> t = ParseTimestamp(text);
  if (!t.ok()) return Bad(absl::StrCat("timestamp '", Excerpt(text), "': ", t.status().message()));
  out = *t;
  return Presence::kValue;
}

// Reads one field into `tick`; unknown names are skipped.
absl::Status ReadField(std::string_view key, simdjson::ondemand::value value, Tick& tick,
                       bool& has_symbol, bool& has_price, bool& has_timestamp) {
  if (key == "symbol") {
    std::string_view symbol;
    if (value.get_string().get(symbol)) return Bad("symbol: expected a string");
    tick.symbol.assign(symbol);
    has_symbol = true;
    return absl::OkStatus();
  }
  if (key == "timestamp") {
    absl::StatusOr<Presence> p = ReadTimestamp(value, tick.timestamp);
    if (!p.ok()) return p.status();
    has_timestamp = *p == Presence::kValue;
    return absl::OkStatus();
  }
  struct NumberField {
    std::string_view name;
    double* target;
    double if_null;
  };
  const NumberField fields[] = {{"price", &tick.price, NAN},   {"size", &tick.size, 0},
                                {"trades", &tick.trades, 1},   {"updates", &tick.trades, 1},
                                {"bid", &tick.bid, NAN},       {"ask", &tick.ask, NAN}};
  for (const NumberField& f : fields) {
    if (key != f.name) continue;
    absl::StatusOr<Presence> p = ReadNumber(value, f.name, *f.target);
    if (!p.ok()) return p.status();
    if (*p == Presence::kNull) *f.target = f.if_null;
    if (f.target == &tick.price) has_price = *p == Presence::kValue;
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseTickJson(std::string_view json, EpochMicros arrival, Tick& tick) {
  if (json.size() > kMaxTickJsonBytes) {
    return Bad(absl::StrCat(json.size(), " bytes: longer than ", kMaxTickJsonBytes));
  }
  ResetTick(tick, arrival);

  ThreadParser& p = Parser();
  p.buffer.assign(json);
  p.buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (p.parser.iterate(p.buffer.data(), p.buffer.size(), p.buffer.capacity()).get(doc) ||
      doc.get_object().get(object)) {
    return Bad("not a JSON object");
  }
  bool has_symbol = false, has_price = false, has_timestamp = false;
  for (auto field_or_error : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_or_error).get(field) || field.unescaped_key().get(key)) return Bad("malformed object");
    if (absl::Status s = ReadField(key, field.value(), tick, has_symbol, has_price, has_timestamp);
        !s.ok()) {
      return s;
    }
  }
  // The loop stops quietly at the first structural error in some cases; a
  // document with anything left after the object is not one tick either.
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) return Bad("unexpected text after the object");
  if (!has_symbol) return Bad("missing symbol");
  if (!has_price) return Bad("missing price");
  if (!has_timestamp) tick.timestamp = arrival;
  return absl::OkStatus();
}

void AppendEpochSeconds(EpochMicros micros, std::string& out) {
  AppendJsonNumber(out, static_cast<int64_t>(micros / 1'000'000));
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', '0'};
  int64_t rest = micros % 1'000'000;
  for (int i = 6; i >= 1; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
  out.append(frac, 7);
}

void AppendTickJson(const Tick& tick, std::string& out) {
  out.append("{\"symbol\":\"");
  for (const char c : tick.symbol) {  // symbols are plain, but a publisher may send any text
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  out.append("\",");
  AppendJsonKey(out, "price");
  AppendJsonNumber(out, tick.price);
  out.push_back(',');
  AppendJsonKey(out, "size");
  AppendJsonNumber(out, tick.size);
  out.push_back(',');
  AppendJsonKey(out, "trades");
  AppendJsonNumber(out, tick.trades);
  if (!std::isnan(tick.bid)) {
    out.push_back(',');
    AppendJsonKey(out, "bid");
    AppendJsonNumber(out, tick.bid);
  }
  if (!std::isnan(tick.ask)) {
    out.push_back(',');
    AppendJsonKey(out, "ask");
    AppendJsonNumber(out, tick.ask);
  }
  out.push_back(',');
  AppendJsonKey(out, "timestamp");
  AppendEpochSeconds(tick.timestamp, out);
  out.push_back('}');
}

}  // namespace physics::schema
