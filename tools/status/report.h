// Prints physics-status results: aligned "LEVEL  name  message" lines for
// people (coloured on a terminal), or one JSON object for machines.
// Thread-safety: pure functions.
#ifndef PHYSICS_TOOLS_STATUS_REPORT_H_
#define PHYSICS_TOOLS_STATUS_REPORT_H_

#include <span>
#include <string>
#include <string_view>

#include "tools/status/check.h"

namespace physics::ops {

// The worst level among `checks` (kOk when empty).
Level Overall(std::span<const CheckResult> checks);

// One line per check and a last "overall" line. `color`: ANSI colours on the
// level column.
std::string HumanReport(std::string_view target, std::span<const CheckResult> checks, bool color);

// {"overall":"OK","target":...,"checks":[{"name":..,"status":..,"message":..,
//  "data":{...}}, ...]}
std::string JsonReport(std::string_view target, std::span<const CheckResult> checks);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_REPORT_H_
