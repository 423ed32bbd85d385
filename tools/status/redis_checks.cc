#include "tools/status/redis_checks.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace physics::ops {
namespace {

std::string Field(const InfoFields& info, const std::string& name, std::string fallback = "?") {
  auto it = info.find(name);
  return it == info.end() ? fallback : it->second;
}

int64_t IntField(const InfoFields& info, const std::string& name) {
  int64_t v = 0;
  auto it = info.find(name);
  if (it == info.end() || !absl::SimpleAtoi(it->second, &v)) return -1;
  return v;
}

// CONFIG GET's single value, or "" when CONFIG is disabled or renamed
// (managed Redis services often do that).
std::string ConfigValue(redis::Connection& conn, std::string_view name) {
  absl::StatusOr<redis::Reply> r = conn.Command({"CONFIG", "GET", name});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2) return "";
  return std::string(redis::ReplyText((*r)->element[1]));
}

}  // namespace

absl::StatusOr<InfoFields> ReadInfo(redis::Connection& conn) {
  absl::StatusOr<redis::Reply> r = conn.Command({"INFO"});
  if (!r.ok()) return r.status();
  InfoFields fields;
  const std::string_view text = redis::ReplyText(r->get());
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), "\r\n")) {
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    fields[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  return fields;
}

CheckResult CheckServer(const InfoFields& info) {
  CheckResult c{.name = "redis"};
  const std::string version = Field(info, "redis_version");
  const std::string policy = Field(info, "maxmemory_policy");
  const int64_t used = IntField(info, "used_memory");
  const int64_t max = IntField(info, "maxmemory");
  const int64_t uptime = IntField(info, "uptime_in_seconds");
  c.message = absl::StrCat("Redis ", version, ", up ", FormatAge(absl::Seconds(std::max<int64_t>(uptime, 0))),
                           ", used ", Field(info, "used_memory_human"),
                           max > 0 ? absl::StrCat(" of maxmemory ", Field(info, "maxmemory_human"))
                                   : std::string(" (no maxmemory)"),
                           ", policy ", policy);
  c.AddText("version", version);
  c.Add("uptime_seconds", uptime);
  c.Add("used_memory_bytes", used);
  c.Add("maxmemory_bytes", max);
  c.AddText("maxmemory_policy", policy);
  c.Add("connected_clients", IntField(info, "connected_clients"));
  if (max > 0 && used > max / 10 * 9) {
    c.Raise(Level::kWarn, absl::StrFormat("memory %.0f%% of maxmemory", 100.0 * used / max));
  }
  if (policy.rfind("allkeys-", 0) == 0) {
    c.Raise(Level::kWarn, "policy " + policy +
                              " may evict physics:state keys (no TTL); use noeviction (see docs/operations.md)");
  }
  return c;
}

CheckResult CheckPersistence(redis::Connection& conn, const InfoFields& info) {
  CheckResult c{.name = "persistence"};
  const bool aof = Field(info, "aof_enabled") == "1";
  const std::string fsync = aof ? ConfigValue(conn, "appendfsync") : "";
  const std::string save = ConfigValue(conn, "save");
  std::vector<std::string> parts;
  if (aof) {
    parts.push_back(absl::StrCat("AOF on (appendfsync ", fsync.empty() ? "unknown" : fsync, ")"));
  } else {
    parts.push_back("AOF off");
  }
  if (!save.empty()) {
    parts.push_back(absl::StrCat("RDB save \"", save, "\""));
  } else if (ConfigValue(conn, "dbfilename").empty()) {
    parts.push_back("RDB save points unknown (CONFIG not allowed)");
  } else {
    parts.push_back("RDB off");
  }
  c.message = absl::StrJoin(parts, ", ");
  if (!aof && save.empty()) c.message += ": data lives in memory only";
  c.Add("aof_enabled", int64_t{aof ? 1 : 0});
  c.AddText("appendfsync", fsync);
  c.AddText("save", save);
  c.AddText("rdb_last_bgsave_status", Field(info, "rdb_last_bgsave_status"));
  c.AddText("aof_last_write_status", Field(info, "aof_last_write_status"));
  for (const char* status_field : {"rdb_last_bgsave_status", "aof_last_bgrewrite_status", "aof_last_write_status"}) {
    const std::string v = Field(info, status_field, "ok");
    if (v != "ok") c.Raise(Level::kWarn, absl::StrCat(status_field, " is ", v));
  }
  if (Field(info, "loading", "0") == "1") c.Raise(Level::kWarn, "still loading its data set");
  return c;
}

CheckResult CheckLatency(redis::Connection& conn, const StatusOptions& options) {
  CheckResult c{.name = "latency"};
  std::vector<double> ms;
  for (int64_t i = 0; i < options.pings; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<redis::Reply> r = conn.Command({"PING"});
    if (!r.ok()) {
      c.Raise(Level::kFail, absl::StrCat("PING failed: ", std::string(r.status().message())));
      return c;
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double max = ms.back();
  c.message = absl::StrFormat("%d PINGs: P50 %.2f ms, max %.2f ms", ms.size(), p50, max);
  c.Add("pings", static_cast<int64_t>(ms.size()));
  c.Add("p50_ms", p50);
  c.Add("max_ms", max);
  if (p50 > options.max_latency_ms) {
    c.Raise(Level::kWarn, absl::StrFormat("P50 above %.2f ms", options.max_latency_ms));
  }
  return c;
}

}  // namespace physics::ops
