#include "tools/status/report.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/schema/json_writer.h"

namespace physics::ops {
namespace {

using schema::AppendJsonString;

std::string_view Color(Level level) {
  switch (level) {
    case Level::kOk: return "\x1b[32m";
    case Level::kWarn: return "\x1b[33m";
    case Level::kFail: return "\x1b[1;31m";
  }
  return "";
}

}  // namespace

Level Overall(std::span<const CheckResult> checks) {
  Level worst = Level::kOk;
  for (const CheckResult& c : checks) worst = std::max(worst, c.level);
  return worst;
}

std::string HumanReport(std::string_view target, std::span<const CheckResult> checks, bool color) {
  std::string out = absl::StrCat("physics-status: ", std::string(target), "\n");
  const auto line = [&](Level level, std::string_view name, std::string_view message) {
    const std::string level_text = absl::StrFormat("%-4s", std::string(LevelName(level)));
    absl::StrAppend(&out, color ? std::string(Color(level)) : "", level_text, color ? "\x1b[0m" : "",
                    "  ", absl::StrFormat("%-11s", std::string(name)), "  ", std::string(message), "\n");
  };
  int64_t ok = 0;
  for (const CheckResult& c : checks) {
    line(c.level, c.name, c.message);
    ok += c.level == Level::kOk;
  }
  const Level overall = Overall(checks);
  line(overall, "overall",
       overall == Level::kOk ? absl::StrCat("all ", checks.size(), " checks OK")
                             : absl::StrCat(checks.size() - ok, " of ", checks.size(), " checks not OK"));
  return out;
}

std::string JsonReport(std::string_view target, std::span<const CheckResult> checks) {
  std::string out = "{\"overall\":";
  AppendJsonString(out, LevelName(Overall(checks)));
  out += ",\"target\":";
  AppendJsonString(out, target);
  out += ",\"checks\":[";
  for (size_t i = 0; i < checks.size(); ++i) {
    const CheckResult& c = checks[i];
    out += i == 0 ? "{\"name\":" : ",{\"name\":";
    AppendJsonString(out, c.name);
    out += ",\"status\":";
    AppendJsonString(out, LevelName(c.level));
    out += ",\"message\":";
    AppendJsonString(out, c.message);
    out += ",\"data\":{";
    for (size_t j = 0; j < c.data.size(); ++j) {
      if (j > 0) out.push_back(',');
      AppendJsonString(out, c.data[j].first);
      out.push_back(':');
      out += c.data[j].second;
    }
    out += "}}";
  }
  out += "]}\n";
  return out;
}

}  // namespace physics::ops
