#include "tools/status/check.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/schema/json_writer.h"

namespace physics::ops {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kOk: return "OK";
    case Level::kWarn: return "WARN";
    case Level::kFail: return "FAIL";
  }
  return "FAIL";
}

void CheckResult::Add(std::string key, int64_t value) {
  std::string v;
  schema::AppendJsonNumber(v, value);
  data.emplace_back(std::move(key), std::move(v));
}

void CheckResult::Add(std::string key, double value) {
  std::string v;
  schema::AppendJsonNumber(v, value);
  data.emplace_back(std::move(key), std::move(v));
}

void CheckResult::AddText(std::string key, std::string_view value) {
  std::string v;
  schema::AppendJsonString(v, value);
  data.emplace_back(std::move(key), std::move(v));
}

void CheckResult::AddEncoded(std::string key, std::string json) {
  data.emplace_back(std::move(key), std::move(json));
}

void CheckResult::Raise(Level new_level, std::string_view why) {
  level = std::max(level, new_level);
  absl::StrAppend(&message, message.empty() ? "" : "; ", std::string(why));
}

std::string FormatAge(absl::Duration age) {
  const double s = absl::ToDoubleSeconds(std::max(age, absl::ZeroDuration()));
  if (s < 10) return absl::StrFormat("%.1f s", s);
  if (s < 120) return absl::StrFormat("%.0f s", s);
  if (s < 7200) return absl::StrFormat("%.0f min", s / 60);
  if (s < 2 * 86400) return absl::StrFormat("%.1f h", s / 3600);
  return absl::StrFormat("%.1f d", s / 86400);
}

}  // namespace physics::ops
