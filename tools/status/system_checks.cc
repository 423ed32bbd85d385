#include "tools/status/system_checks.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/http_client/http_client.h"
#include "engine/redis/key_space.h"
#include "engine/redis/partition.h"
#include "engine/schema/state_message.h"
#include "engine/schema/state_reader.h"
#include "engine/schema/timestamp.h"

namespace physics::ops {
namespace {

constexpr std::string_view kDeadLetterStream = "market:ticks:dlq";

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// A check that could not read what it needed: the connection failed mid-way.
CheckResult Failed(std::string name, const absl::Status& s) {
  CheckResult c{.name = std::move(name)};
  c.Raise(Level::kFail, Message(s));
  return c;
}

}  // namespace

CheckResult CheckHeartbeats(redis::KeySpace& keyspace, const redis::Config& cfg,
                            std::string_view service, const StatusOptions& options) {
  CheckResult c{.name = std::string(service)};
  int64_t fresh = 0, stale = 0, youngest_age = std::numeric_limits<int64_t>::max();
  std::string stale_key, fresh_key;
  for (const std::string& prefix : {absl::StrCat("ops:hb:", std::string(service), ":"),
                                    absl::StrCat("ops:hb:physics-", std::string(service), ":")}) {
    absl::Status s = keyspace.Scan(cfg.Key(prefix + "*"), [&](std::span<const std::string> keys) {
      absl::StatusOr<std::vector<redis::Reply>> ttls = keyspace.PerKey("TTL", keys);
      if (!ttls.ok()) return ttls.status();
      for (size_t i = 0; i < keys.size(); ++i) {
        const redisReply* r = (*ttls)[i].get();
        if (r->type != REDIS_REPLY_INTEGER || r->integer == -2) continue;  // expired meanwhile
        const int64_t age = kHeartbeatTtlSeconds - r->integer;
        if (r->integer > 0 && age <= options.heartbeat_max_age_seconds) {
          ++fresh;
          if (age < youngest_age) fresh_key = keys[i];
          youngest_age = std::min(youngest_age, age);
        } else {
          ++stale;
          stale_key = r->integer == -1 ? absl::StrCat(keys[i], " (no TTL)") : keys[i];
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return Failed(c.name, s);
  }
  c.Add("fresh", fresh);
  c.Add("stale", stale);
  if (fresh > 0) {
    c.message = absl::StrCat(fresh, fresh == 1 ? " heartbeat" : " heartbeats", ", newest refreshed ",
                             youngest_age, " s ago (", fresh_key, ")");
  } else {
    c.Raise(Level::kWarn, absl::StrCat("no fresh heartbeat ", cfg.Key(absl::StrCat("ops:hb:", std::string(service), ":*")),
                                       ": ", std::string(service), " not running?"));
  }
  if (stale > 0) {
    c.Raise(Level::kWarn, absl::StrCat(stale, " stale (not refreshed for over ", options.heartbeat_max_age_seconds,
                                       " s): ", stale_key));
  }
  return c;
}

namespace {

// True when `suffix` is an engine shard's lease suffix "I/N" (digits/digits);
// false e.g. for a cluster lease's fencing copies ops:leader:engine:{T}.
bool IsShardSuffix(absl::string_view suffix) {
  const size_t slash = suffix.find('/');
  if (slash == 0 || slash == absl::string_view::npos || slash + 1 == suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (i != slash && (suffix[i] < '0' || suffix[i] > '9')) return false;
  }
  return true;
}

// Adds one lease's holder; `shard` is "" or "I/N".
void AddLeaseHolder(redis::KeySpace& keyspace, const std::string& key, absl::string_view shard,
                    CheckResult& check) {
  absl::StatusOr<redis::Reply> holder = keyspace.Command(key, {"GET", key});
  absl::StatusOr<redis::Reply> ttl = keyspace.Command(key, {"PTTL", key});
  if (!holder.ok() || !ttl.ok() || (*holder)->type != REDIS_REPLY_STRING) return;
  const std::string id((*holder)->str, (*holder)->len);
  const int64_t ttl_ms = (*ttl)->type == REDIS_REPLY_INTEGER ? (*ttl)->integer : -2;
  // JSON fields leader / leader_ttl_ms, or leader_I_N / leader_ttl_ms_I_N.
  std::string field_suffix = shard.empty() ? "" : absl::StrCat("_", shard);
  std::replace(field_suffix.begin(), field_suffix.end(), '/', '_');
  check.AddText(absl::StrCat("leader", field_suffix), id);
  check.Add(absl::StrCat("leader_ttl_ms", field_suffix), ttl_ms);
  absl::StrAppend(&check.message, check.message.empty() ? "" : "; ",
                  shard.empty() ? "" : absl::StrCat("shard ", shard, " "), "leader ", id, " (lease ",
                  ttl_ms, " ms left)");
}

}  // namespace

void AddEngineLeader(redis::KeySpace& keyspace, const redis::Config& cfg, CheckResult& check) {
  const std::string key = cfg.Key("ops:leader:engine");
  AddLeaseHolder(keyspace, key, "", check);
  // Engine shards' leases, ops:leader:engine:I/N, in shard order.
  std::vector<std::string> shard_keys;
  const std::string pattern = key + ":*";
  keyspace
      .Scan(pattern,
            [&](std::span<const std::string> keys) {
              for (const std::string& k : keys) {
                if (IsShardSuffix(absl::string_view(k).substr(pattern.size() - 1))) shard_keys.push_back(k);
              }
              return absl::OkStatus();
            })
      .IgnoreError();  // best effort, as the holder above
  std::sort(shard_keys.begin(), shard_keys.end());
  shard_keys.erase(std::unique(shard_keys.begin(), shard_keys.end()), shard_keys.end());
  for (const std::string& k : shard_keys) {
    AddLeaseHolder(keyspace, k, absl::string_view(k).substr(pattern.size() - 1), check);
  }
}

void ProbeBridgeHealth(const StatusOptions& options, CheckResult& check) {
  if (options.bridge_url.empty()) return;
  std::string url = options.bridge_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/healthz";
  check.AddText("healthz_url", url);
  absl::StatusOr<http::Url> parsed = http::ParseUrl(url);
  absl::StatusOr<http::Response> r =
      parsed.ok() ? http::Fetch(*parsed, options.timeout, http::RequestOptions{.user_agent = "physics-status"})
                  : parsed.status();
  if (!r.ok()) {
    check.Add("healthz_status", int64_t{0});
    check.Raise(Level::kWarn, absl::StrCat("GET ", url, ": ", Message(r.status())));
    return;
  }
  check.Add("healthz_status", int64_t{r->status});
  std::string body = r->body.substr(0, 160);
  std::replace(body.begin(), body.end(), '\n', ' ');
  if (r->status == 200) {
    absl::StrAppend(&check.message, check.message.empty() ? "" : "; ", "/healthz 200");
  } else {
    check.Raise(Level::kWarn, absl::StrCat("/healthz ", r->status, ": ", body));
  }
}

CheckResult CheckStates(redis::KeySpace& keyspace, const redis::Config& cfg,
                        const StatusOptions& options, absl::Time now) {
  CheckResult c{.name = "states"};
  const std::string prefix = cfg.Key(schema::kStateKeyPrefix);
  int64_t count = 0, bad = 0;
  schema::EpochMicros newest = std::numeric_limits<int64_t>::min();
  schema::EpochMicros oldest = std::numeric_limits<int64_t>::max();
  std::string oldest_symbol, bad_example;
  absl::Status s = keyspace.Scan(prefix + "*", [&](std::span<const std::string> keys) {
    return keyspace.Values(keys, [&](size_t i, const redisReply* v) {
      if (v->type == REDIS_REPLY_NIL) return;  // deleted or expired meanwhile
      ++count;
      absl::StatusOr<schema::StateFields> state = schema::ParseStateJson(redis::ReplyText(v));
      if (!state.ok()) {
        ++bad;
        bad_example = absl::StrCat(keys[i], ": ", Message(state.status()));
        return;
      }
      newest = std::max(newest, state->timestamp);
      if (state->timestamp < oldest) {
        oldest = state->timestamp;
        oldest_symbol = keys[i].substr(prefix.size());
      }
    });
  });
  if (!s.ok()) return Failed(c.name, s);
  c.Add("count", count);
  c.Add("unparsable", bad);
  if (count == 0) {
    c.Raise(Level::kWarn, absl::StrCat("no ", prefix, "* keys: engine not started, or another namespace?"));
    return c;
  }
  c.message = absl::StrCat(count, " ", prefix, "* keys");
  if (count > bad) {
    const absl::Duration newest_age = now - absl::FromUnixMicros(newest);
    const absl::Duration oldest_age = now - absl::FromUnixMicros(oldest);
    absl::StrAppend(&c.message, ", newest ", FormatAge(newest_age), " old, oldest ", FormatAge(oldest_age),
                    " (", oldest_symbol, ")");
    c.Add("newest_age_seconds", absl::ToDoubleSeconds(newest_age));
    c.Add("oldest_age_seconds", absl::ToDoubleSeconds(oldest_age));
    c.AddText("oldest_symbol", oldest_symbol);
    if (oldest_age > absl::Seconds(options.max_state_age_seconds)) {
      c.Raise(Level::kWarn, absl::StrCat("oldest state older than ", options.max_state_age_seconds,
                                         " s: engine stopped, or the symbol no longer trades"));
    }
  }
  if (bad > 0) c.Raise(Level::kWarn, absl::StrCat(bad, " unparsable, e.g. ", bad_example));
  return c;
}

CheckResult CheckSnapshots(redis::KeySpace& keyspace, const redis::Config& cfg,
                           const StatusOptions& options) {
  CheckResult c{.name = "snapshots"};
  const std::string prefix = cfg.Key(schema::kSnapshotKeyPrefix);
  int64_t count = 0, out_of_range = 0;
  int64_t min_ttl = std::numeric_limits<int64_t>::max(), max_ttl = std::numeric_limits<int64_t>::min();
  std::string example;
  absl::Status s = keyspace.Scan(prefix + "*", [&](std::span<const std::string> keys) {
    absl::StatusOr<std::vector<redis::Reply>> ttls = keyspace.PerKey("TTL", keys);
    if (!ttls.ok()) return ttls.status();
    for (size_t i = 0; i < keys.size(); ++i) {
      const redisReply* r = (*ttls)[i].get();
      if (r->type != REDIS_REPLY_INTEGER || r->integer == -2) continue;
      ++count;
      min_ttl = std::min<int64_t>(min_ttl, r->integer);
      max_ttl = std::max<int64_t>(max_ttl, r->integer);
      if (r->integer <= 0 || r->integer > options.max_snapshot_ttl_seconds) {
        ++out_of_range;
        example = absl::StrCat(keys[i], " TTL ", r->integer);
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return Failed(c.name, s);
  c.Add("count", count);
  c.Add("ttl_out_of_range", out_of_range);
  if (count == 0) {
    c.Raise(Level::kWarn, absl::StrCat("no ", prefix, "* keys: nothing written in the last ",
                                       options.max_snapshot_ttl_seconds, " s?"));
    return c;
  }
  c.message = absl::StrCat(count, " ", prefix, "* keys, TTL ", min_ttl, "-", max_ttl, " s");
  c.Add("min_ttl_seconds", min_ttl);
  c.Add("max_ttl_seconds", max_ttl);
  if (out_of_range > 0) {
    c.Raise(Level::kWarn, absl::StrCat(out_of_range, " with a TTL outside (0, ", options.max_snapshot_ttl_seconds,
                                       "] s, e.g. ", example, " (-1: no expiry)"));
  }
  return c;
}

CheckResult CheckSubscribers(redis::Connection& conn, const redis::Config& cfg) {
  CheckResult c{.name = "subscribers"};
  const std::string channel = cfg.Key(schema::kStateUpdateChannel);
  absl::StatusOr<redis::Reply> r = conn.Command({"PUBSUB", "NUMSUB", channel});
  if (!r.ok()) return Failed(c.name, r.status());
  if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2 || (*r)->element[1]->type != REDIS_REPLY_INTEGER) {
    return Failed(c.name, absl::InternalError("unexpected PUBSUB NUMSUB reply"));
  }
  const int64_t n = (*r)->element[1]->integer;
  c.Add("state_update_subscribers", n);
  if (n == 0) {
    c.Raise(Level::kWarn, absl::StrCat("nobody is subscribed to ", channel, " (bridge down?)"));
  } else {
    c.message = absl::StrCat(channel, " has ", n, n == 1 ? " subscriber" : " subscribers");
  }
  return c;
}

CheckResult CheckDeadLetters(redis::KeySpace& keyspace, const redis::Config& cfg,
                             const StatusOptions& options, int partitions) {
  CheckResult c{.name = "dlq"};
  const std::string key = cfg.Key(kDeadLetterStream);
  std::vector<std::string> keys = {key};
  const redis::Partitioning parts(partitions);
  for (int p = 0; p < partitions; ++p) keys.push_back(parts.Stream(key, p));
  int64_t n = 0;
  std::vector<std::string> holding;  // keys with entries
  for (const std::string& k : keys) {
    absl::StatusOr<redis::Reply> r = keyspace.Command(k, {"XLEN", k});
    if (!r.ok()) {
      if (absl::IsUnavailable(r.status())) return Failed(c.name, r.status());
      c.Raise(Level::kWarn, absl::StrCat("XLEN ", k, ": ", Message(r.status())));
      return c;
    }
    n += (*r)->integer;
    if ((*r)->integer > 0) holding.push_back(k);
  }
  c.Add("length", n);
  c.message = absl::StrCat(key, " and ", partitions, " partition DLQs ", key, ":{TAG}: ", n,
                           n == 1 ? " rejected tick" : " rejected ticks");
  if (n > options.max_dlq) {
    c.Raise(Level::kWarn, absl::StrCat("more than ", options.max_dlq, ": inspect with XRANGE ",
                                       holding.empty() ? key : absl::StrJoin(holding, ", "),
                                       " - + COUNT 10, then XTRIM or DEL"));
  }
  return c;
}

}  // namespace physics::ops
