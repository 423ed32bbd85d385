#include "engine/schema/event_header.h"

#include "absl/strings/str_cat.h"
#include "engine/schema/symbol.h"
#include "simdjson.h"

namespace physics::schema {
namespace {

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING);

// The per-thread parser and copy buffer: one of each per thread, reused, as
// simdjson recommends.
struct ThreadParser {
  simdjson::ondemand::parser parser;
  std::string buffer;

  // Iterates `json` in place when padded, else through `buffer`.
  simdjson::simdjson_result<simdjson::ondemand::document> Iterate(std::string_view json,
                                                                  bool padded) {
    if (padded) return parser.iterate(json.data(), json.size(), json.size() + kJsonPadding);
    buffer.assign(json);
    buffer.reserve(json.size() + kJsonPadding);
    return parser.iterate(buffer.data(), buffer.size(), buffer.capacity());
  }
};

ThreadParser& Parser() {
  thread_local ThreadParser parser;
  return parser;
}

}  // namespace

absl::Status ParseEventHeader(std::string_view json, bool padded, EventHeader& out) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (Parser().Iterate(json, padded).get(doc) || doc.get_object().get(object)) {
    return absl::InvalidArgumentError("event is not a JSON object");
  }
  // Fields are looked up in SPEC order (symbol, timestamp, seq), so an event
  // as the engine writes it is read in one forward pass.
  std::string_view symbol;
  if (object.find_field_unordered("symbol").get_string().get(symbol)) {
    return absl::InvalidArgumentError("event has no string \"symbol\"");
  }
  if (absl::Status s = NormalizeSymbol(symbol, out.symbol); !s.ok()) return s;
  std::string_view timestamp;
  out.timestamp.reset();
  if (!object.find_field_unordered("timestamp").get_string().get(timestamp)) {
    if (absl::StatusOr<EpochMicros> t = ParseTimestamp(timestamp); t.ok()) out.timestamp = *t;
  }
  if (object.find_field_unordered("seq").get_int64().get(out.seq)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event for ", out.symbol, " has no integer \"seq\""));
  }
  return absl::OkStatus();
}

absl::Status StateJsonFromEvent(std::string_view event_json, std::string& out) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object, data;
  std::string_view raw;
  if (Parser().Iterate(event_json, false).get(doc) || doc.get_object().get(object) ||
      object.find_field_unordered("data").get_object().get(data) || data.raw_json().get(raw)) {
    return absl::InvalidArgumentError("event has no \"data\" object");
  }
  out.assign(raw);
  // raw_json keeps trailing whitespace up to the next token.
  while (!out.empty() && out.back() != '}') out.pop_back();
  // AppendEventJson writes {"alpha":<number>,<state fields>}; drop the alias.
  constexpr std::string_view kAlias = "{\"alpha\":";
  if (out.compare(0, kAlias.size(), kAlias) == 0) {
    const size_t comma = out.find(',', kAlias.size());
    if (comma != std::string::npos) out.replace(0, comma + 1, "{");
  }
  return absl::OkStatus();
}

}  // namespace physics::schema
