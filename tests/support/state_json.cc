#include "tests/support/state_json.h"

#include "absl/strings/str_cat.h"

namespace physics::testing {

std::string StateJson(double mass, int64_t seq) {
  return absl::StrCat(R"({"mass":)", mass, R"(,"momentum":0.5,"friction":0.1,"entropy":3.0,"nash_dist":0.2,)",
                      R"("regime":"Gaussian","alpha_coefficient":2.5,"price":100.5,"seq":)", seq,
                      R"(,"timestamp":"2025-12-21T12:00:00.123456Z"})");
}

std::string StateEventJson(std::string_view symbol, double mass, int64_t seq) {
  return absl::StrCat(R"({"event":"PHYSICS_UPDATE","symbol":")", std::string(symbol),
                      R"(","timestamp":"2025-12-21T12:00:01.000000Z","seq":)", seq, R"(,"data":{"alpha":2.5,)",
                      StateJson(mass, seq).substr(1), "}");
}

}  // namespace physics::testing
