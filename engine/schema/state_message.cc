#include "engine/schema/state_message.h"

#include "absl/strings/str_cat.h"
#include "engine/schema/json_writer.h"
#include "simdjson.h"

namespace physics::schema {
namespace {

// The text appended to `out` since it held `from` bytes.
TextSpan Since(const std::string& out, size_t from) {
  return {static_cast<uint32_t>(from), static_cast<uint32_t>(out.size() - from)};
}

// Appends `member` (the separator and the quoted key, e.g. ",\"mass\":")
// and the number: one append per part, as the hot path wants. Returns where
// the number went.
template <typename Number>
TextSpan AppendNumberMember(std::string& out, std::string_view member, Number value) {
  out.append(member);
  const size_t from = out.size();
  AppendJsonNumber(out, value);
  return Since(out, from);
}

}  // namespace

StateJsonTexts AppendStateJson(const StateFields& state, std::string& out) {
  StateJsonTexts texts;
  AppendNumberMember(out, "{\"mass\":", state.mass);
  AppendNumberMember(out, ",\"momentum\":", state.momentum);
  AppendNumberMember(out, ",\"friction\":", state.friction);
  AppendNumberMember(out, ",\"entropy\":", state.entropy);
  AppendNumberMember(out, ",\"nash_dist\":", state.nash_dist);
  out.append(",\"regime\":");
  AppendJsonPlainString(out, state.regime);
  texts.alpha = AppendNumberMember(out, ",\"alpha_coefficient\":", state.alpha);
  texts.price = AppendNumberMember(out, ",\"price\":", state.price);
  AppendNumberMember(out, ",\"seq\":", state.seq);
  out.append(",\"timestamp\":\"");
  const size_t from = out.size();
  AppendIso8601Micros(state.timestamp, out);
  texts.timestamp = Since(out, from);
  out.append("\"}");
  return texts;
}

void AppendEventJson(std::string_view symbol, std::string_view timestamp_iso, int64_t seq,
                     std::string_view alpha_number, std::string_view state_json,
                     std::string& out) {
  out.append("{\"event\":\"");
  out.append(kPhysicsUpdateEvent);
  out.append("\",\"symbol\":");
  AppendJsonPlainString(out, symbol);
  out.append(",\"timestamp\":");
  AppendJsonPlainString(out, timestamp_iso);
  AppendNumberMember(out, ",\"seq\":", seq);
  out.append(",\"data\":{\"alpha\":");
  out.append(alpha_number);
  out.push_back(',');
  out.append(state_json.substr(1));  // the state's fields and its closing brace
  out.push_back('}');
}

absl::Status EventFromStateJson(std::string_view symbol, std::string_view state_json,
                                std::string& out) {
  thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(state_json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  std::string_view timestamp, alpha;
  int64_t seq = 0;
  // Fields are looked up in SPEC order; find_field_unordered tolerates others.
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object) ||
      object.find_field_unordered("alpha_coefficient").raw_json_token().get(alpha) ||
      object.find_field_unordered("seq").get_int64().get(seq) ||
      object.find_field_unordered("timestamp").get_string().get(timestamp)) {
    return absl::InvalidArgumentError(
        absl::StrCat("stored state for ", std::string(symbol), " is not a physics state object"));
  }
  // raw_json_token keeps trailing whitespace; the stored form has none, but be exact.
  while (!alpha.empty() && (alpha.back() == ' ' || alpha.back() == '\n')) alpha.remove_suffix(1);
  const size_t brace = state_json.find('{');
  AppendEventJson(symbol, timestamp, seq, alpha, state_json.substr(brace), out);
  return absl::OkStatus();
}

}  // namespace physics::schema
