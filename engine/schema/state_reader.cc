#include "engine/schema/state_reader.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "engine/schema/symbol.h"
#include "engine/schema/timestamp.h"
#include "simdjson.h"

namespace physics::schema {
namespace {

constexpr std::array<std::string_view, 4> kRegimes = {"WAIT", "Gaussian", "Levy", "Critical"};

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("state JSON: ", std::string(what)));
}

absl::Status ReadNumber(simdjson::dom::object obj, std::string_view field, double& out) {
  if (obj[field].get(out) != simdjson::SUCCESS) {
    return Bad(absl::StrCat("\"", std::string(field), "\" is missing or not a number"));
  }
  return absl::OkStatus();
}

absl::StatusOr<StateFields> FromObject(simdjson::dom::object obj) {
  StateFields s;
  struct NumberField {
    std::string_view name;
    double* target;
  };
  for (const NumberField& f : {NumberField{"mass", &s.mass}, NumberField{"momentum", &s.momentum},
                               NumberField{"friction", &s.friction}, NumberField{"entropy", &s.entropy},
                               NumberField{"nash_dist", &s.nash_dist},
                               NumberField{"alpha_coefficient", &s.alpha}, NumberField{"price", &s.price}}) {
    if (absl::Status st = ReadNumber(obj, f.name, *f.target); !st.ok()) return st;
  }
  if (obj["seq"].get(s.seq) != simdjson::SUCCESS) return Bad("\"seq\" is missing or not an integer");
  std::string_view regime, timestamp;
  if (obj["regime"].get(regime) != simdjson::SUCCESS) return Bad("\"regime\" is missing");
  s.regime = {};
  for (std::string_view known : kRegimes) {
    if (regime == known) s.regime = known;
  }
  if (s.regime.empty()) return Bad(absl::StrCat("unknown regime \"", std::string(regime), "\""));
  if (obj["timestamp"].get(timestamp) != simdjson::SUCCESS) return Bad("\"timestamp\" is missing");
  absl::StatusOr<EpochMicros> micros = ParseTimestamp(timestamp);
  if (!micros.ok()) return Bad(absl::StrCat("\"timestamp\": ", std::string(micros.status().message())));
  s.timestamp = *micros;
  return s;
}

}  // namespace

absl::StatusOr<StateFields> ParseStateJson(std::string_view json) {
  simdjson::dom::object obj;
  if (ThreadParser().parse(json.data(), json.size()).get(obj) != simdjson::SUCCESS) {
    return Bad("not a JSON object");
  }
  return FromObject(obj);
}

absl::StatusOr<StateEvent> ParseStateEvent(std::string_view json) {
  simdjson::dom::object event, data;
  if (ThreadParser().parse(json.data(), json.size()).get(event) != simdjson::SUCCESS) {
    return Bad("event is not a JSON object");
  }
  std::string_view symbol;
  if (event["symbol"].get(symbol) != simdjson::SUCCESS) return Bad("event has no \"symbol\"");
  if (event["data"].get(data) != simdjson::SUCCESS) return Bad("event has no \"data\" object");
  StateEvent out;
  if (absl::Status s = NormalizeSymbol(symbol, out.symbol); !s.ok()) return s;
  absl::StatusOr<StateFields> state = FromObject(data);
  if (!state.ok()) return state.status();
  out.state = *state;
  return out;
}

}  // namespace physics::schema
