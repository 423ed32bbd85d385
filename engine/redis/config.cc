#include "engine/redis/config.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

constexpr absl::string_view kAcceptedUrls =
    "accepted: redis://[[user]:password@]host[:port][/db], unix:///path.sock[?db=N], "
    "redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#MASTER or "
    "redis-cluster://[[user]:password@]host[:port][,host[:port]...]";

constexpr int kDefaultSentinelPort = 26379;
constexpr int kDefaultRedisPort = 6379;

// The URL as it may appear in a log: the password replaced by "***".
std::string MaskPassword(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t at = url.rfind('@');
  if (scheme_end == absl::string_view::npos || at == absl::string_view::npos || at < scheme_end) {
    return std::string(url);
  }
  const absl::string_view head = url.substr(0, scheme_end + 3);
  const absl::string_view userinfo = url.substr(head.size(), at - head.size());
  const size_t colon = userinfo.find(':');
  const absl::string_view user =
      colon == absl::string_view::npos ? absl::string_view() : userinfo.substr(0, colon);
  return absl::StrCat(head, user, user.empty() && colon == absl::string_view::npos ? "" : ":",
                      "***", url.substr(at));
}

std::optional<int> ParsePort(absl::string_view s) {
  int port = 0;
  if (s.empty() || !std::ranges::all_of(s, absl::ascii_isdigit) || s.size() > 5 ||
      !absl::SimpleAtoi(s, &port) || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

std::optional<int> ParseDb(absl::string_view s) {
  int db = 0;
  if (s.empty() || !std::ranges::all_of(s, absl::ascii_isdigit) || !absl::SimpleAtoi(s, &db)) {
    return std::nullopt;
  }
  return db;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

class UrlParser {
 public:
  explicit UrlParser(absl::string_view url) : url_(url) {}

  absl::StatusOr<Config> Parse() {
    if (StartsWithNoCase("unix://")) return ParseUnix(url_.substr(7));
    if (StartsWithNoCase("redis://")) return ParseTcp(url_.substr(8));
    if (StartsWithNoCase("redis-sentinel://")) return ParseSentinel(url_.substr(17));
    if (StartsWithNoCase("redis-cluster://")) return ParseCluster(url_.substr(16));
    if (StartsWithNoCase("rediss://")) return Bad("TLS (rediss://) is not supported");
    return Bad("unknown scheme");
  }

 private:
  bool StartsWithNoCase(absl::string_view prefix) const {
    return absl::StartsWithIgnoreCase(url_, prefix);
  }

  absl::Status Bad(absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat("invalid Redis URL \"", MaskPassword(url_),
                                                   "\": ", why, "; ", kAcceptedUrls));
  }

  // Splits "[userinfo@]rest" (the last '@' wins, so an unencoded '@' in a
  // password still works) and fills cfg.user / cfg.password.
  absl::StatusOr<absl::string_view> TakeUserInfo(absl::string_view s, Config& cfg) const {
    const size_t at = s.rfind('@');
    if (at == absl::string_view::npos) return s;
    const absl::string_view userinfo = s.substr(0, at);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> user = PercentDecode(
        colon == absl::string_view::npos ? absl::string_view() : userinfo.substr(0, colon));
    std::optional<std::string> password = PercentDecode(
        colon == absl::string_view::npos ? userinfo : userinfo.substr(colon + 1));
    if (!user || !password) return Bad("bad %-escape in user or password");
    cfg.user = *std::move(user);
    cfg.password = *std::move(password);
    return s.substr(at + 1);
  }

  // "host[:port]" or "[IPv6][:port]", for redis:// and each sentinel.
  absl::StatusOr<HostPort> ParseHostPort(absl::string_view authority, int default_port) const {
    absl::string_view host;
    absl::string_view port;
    if (absl::StartsWith(authority, "[")) {  // [IPv6]:port
      const size_t close = authority.find(']');
      if (close == absl::string_view::npos) return Bad("unterminated [IPv6] host");
      host = authority.substr(1, close - 1);
      const absl::string_view tail = authority.substr(close + 1);
      if (!tail.empty() && tail[0] != ':') return Bad("expected ':port' after the [IPv6] host");
      if (!tail.empty()) port = tail.substr(1);
      if (!tail.empty() && port.empty()) return Bad("empty port");
    } else {
      const size_t colon = authority.find(':');
      host = authority.substr(0, colon);
      if (colon != absl::string_view::npos) {
        port = authority.substr(colon + 1);
        if (port.empty()) return Bad("empty port");
      }
    }
    if (host.empty()) return Bad("missing host");
    HostPort out{std::string(host), default_port};
    if (!port.empty()) {
      const std::optional<int> p = ParsePort(port);
      if (!p) return Bad(absl::StrCat("port \"", port, "\" is not an integer in 1-65535"));
      out.port = *p;
    }
    return out;
  }

  // Splits "authority[/db]" (no query) and parses the db into cfg.db.
  absl::StatusOr<absl::string_view> TakeDb(absl::string_view rest, Config& cfg) const {
    if (rest.find('?') != absl::string_view::npos) return Bad("query parameters are not supported");
    const size_t slash = rest.find('/');
    if (slash == absl::string_view::npos) return rest;
    const absl::string_view path = rest.substr(slash + 1);
    if (!path.empty()) {
      const std::optional<int> db = ParseDb(path);
      if (!db) return Bad(absl::StrCat("db \"", path, "\" is not a non-negative integer"));
      cfg.db = *db;
    }
    return rest.substr(0, slash);
  }

  // "[[user]:password@]authority[/db]": fills the credentials and the db into
  // cfg and returns the authority (host[:port], or a list of them).
  absl::StatusOr<absl::string_view> TakeAuthority(absl::string_view rest, Config& cfg) const {
    absl::StatusOr<absl::string_view> after_userinfo = TakeUserInfo(rest, cfg);
    if (!after_userinfo.ok()) return after_userinfo.status();
    return TakeDb(*after_userinfo, cfg);
  }

  absl::StatusOr<Config> ParseTcp(absl::string_view rest) const {
    Config cfg;
    absl::StatusOr<absl::string_view> authority = TakeAuthority(rest, cfg);
    if (!authority.ok()) return authority.status();
    absl::StatusOr<HostPort> address = ParseHostPort(*authority, cfg.port);
    if (!address.ok()) return address.status();
    cfg.host = std::move(address->host);
    cfg.port = address->port;
    return cfg;
  }

  absl::StatusOr<Config> ParseSentinel(absl::string_view rest) const {
    Config cfg;
    cfg.host.clear();
    cfg.port = 0;
    // The master name comes after the last '#', so a '#' in a password works.
    const size_t hash = rest.rfind('#');
    if (hash == absl::string_view::npos) return Bad("missing #MASTER (the master's name)");
    const absl::string_view name = rest.substr(hash + 1);
    if (name.empty() || !std::ranges::all_of(name, [](char c) {
          return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
        })) {
      // Not echoed: a stray '#' before the password would put the password here.
      return Bad("the master name after '#' must be 1 or more of [A-Za-z0-9._-]");
    }
    cfg.master_name = std::string(name);
    absl::StatusOr<absl::string_view> authority = TakeAuthority(rest.substr(0, hash), cfg);
    if (!authority.ok()) return authority.status();
    absl::StatusOr<std::vector<HostPort>> sentinels =
        ParseAddressList(*authority, kDefaultSentinelPort, "sentinel");
    if (!sentinels.ok()) return sentinels.status();
    cfg.sentinels = std::make_shared<SentinelList>(*std::move(sentinels));
    return cfg;
  }

  // "host[:port][,host[:port]...]": the sentinels or the cluster's seeds.
  absl::StatusOr<std::vector<HostPort>> ParseAddressList(absl::string_view list, int default_port,
                                                         absl::string_view what) const {
    std::vector<HostPort> addresses;
    for (const absl::string_view entry : absl::StrSplit(list, ',')) {
      if (entry.empty()) return Bad(absl::StrCat("empty ", what, " address (a stray ',' or none given)"));
      absl::StatusOr<HostPort> address = ParseHostPort(entry, default_port);
      if (!address.ok()) return address.status();
      addresses.push_back(*std::move(address));
    }
    return addresses;
  }

  // A cluster has db 0 only and no master name, so neither /db nor #fragment.
  absl::StatusOr<Config> ParseCluster(absl::string_view rest) const {
    Config cfg;
    cfg.host.clear();
    cfg.port = 0;
    // After the credentials, so a '#' in a password is no fragment.
    absl::StatusOr<absl::string_view> after_userinfo = TakeUserInfo(rest, cfg);
    if (!after_userinfo.ok()) return after_userinfo.status();
    if (after_userinfo->find('#') != absl::string_view::npos) {
      return Bad("a cluster URL has no #fragment (that is redis-sentinel://'s master name)");
    }
    absl::StatusOr<absl::string_view> authority = TakeDb(*after_userinfo, cfg);
    if (!authority.ok()) return authority.status();
    if (cfg.db != 0) {
      return Bad(absl::StrCat("db ", cfg.db, ": a Redis Cluster has db 0 only"));
    }
    absl::StatusOr<std::vector<HostPort>> seeds =
        ParseAddressList(*authority, kDefaultRedisPort, "seed node");
    if (!seeds.ok()) return seeds.status();
    cfg.cluster_seeds = *std::move(seeds);
    return cfg;
  }

  absl::StatusOr<Config> ParseUnix(absl::string_view rest) const {
    Config cfg;
    cfg.host.clear();
    cfg.port = 0;
    const size_t query = rest.find('?');
    const absl::string_view params =
        query == absl::string_view::npos ? absl::string_view() : rest.substr(query + 1);
    rest = rest.substr(0, query);
    if (!absl::StartsWith(rest, "/")) {
      absl::StatusOr<absl::string_view> path = TakeUserInfo(rest, cfg);
      if (!path.ok()) return path.status();
      rest = *path;
    }
    if (!absl::StartsWith(rest, "/") || rest.size() < 2) {
      return Bad("the socket path must be absolute (unix:///path.sock)");
    }
    cfg.unix_path = std::string(rest);
    if (!params.empty()) {
      if (!absl::StartsWith(params, "db=")) return Bad("the only query parameter is db=N");
      const std::optional<int> db = ParseDb(params.substr(3));
      if (!db) {
        return Bad(absl::StrCat("db \"", params.substr(3), "\" is not a non-negative integer"));
      }
      cfg.db = *db;
    }
    return cfg;
  }

  absl::string_view url_;
};

}  // namespace

std::string Config::Key(std::string_view name) const {
  std::string key;
  AppendKey(key, name);
  return key;
}

void Config::AppendKey(std::string& out, std::string_view name) const {
  if (!key_namespace.empty()) {
    out.append(key_namespace);
    out.push_back(':');
  }
  out.append(name);
}

std::string Config::Describe() const {
  auto join = [](const std::vector<HostPort>& addresses) {
    return absl::StrJoin(addresses, ",", [](std::string* out, const HostPort& a) {
      out->append(a.ToString());
    });
  };
  if (uses_sentinels()) {
    return absl::StrCat("redis-sentinel://", user, user.empty() ? "" : "@",
                        join(sentinels->addresses()), "/", db, "#", master_name);
  }
  if (uses_cluster()) {
    return absl::StrCat("redis-cluster://", user, user.empty() ? "" : "@", join(cluster_seeds));
  }
  if (!unix_path.empty()) {
    return db == 0 ? absl::StrCat("unix://", unix_path)
                   : absl::StrCat("unix://", unix_path, "?db=", db);
  }
  return absl::StrCat("redis://", user, user.empty() ? "" : "@", HostPort{host, port}.ToString(),
                      "/", db);
}

absl::StatusOr<Config> ParseRedisUrl(std::string_view url) {
  return UrlParser(internal::ToAbsl(url)).Parse();
}

absl::StatusOr<std::string> ParseNamespace(std::string_view std_ns) {
  const absl::string_view ns = internal::ToAbsl(std_ns);
  absl::string_view trimmed = ns;
  while (!trimmed.empty() && trimmed.back() == ':') trimmed.remove_suffix(1);
  const bool valid_chars = std::ranges::all_of(trimmed, [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
  if (trimmed.size() > 64 || !valid_chars || (trimmed.empty() && !ns.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid namespace \"", ns, "\"; accepted: 1-64 characters from [A-Za-z0-9._:-]"));
  }
  return std::string(trimmed);
}

absl::StatusOr<Config> ConfigFromEnv(std::function<const char*(const char*)> getenv) {
  auto get = [&getenv](const char* name) -> std::optional<absl::string_view> {
    const char* value = getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return absl::string_view(value);
  };
  auto bad = [](absl::string_view var, absl::string_view value, absl::string_view accepted) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", var, "=\"", value, "\"; accepted: ", accepted));
  };

  Config cfg;
  if (const std::optional<absl::string_view> url = get("REDIS_URL")) {
    absl::StatusOr<Config> parsed = ParseRedisUrl(internal::ToStd(*url));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("REDIS_URL: ", parsed.status().message()));
    }
    cfg = *std::move(parsed);
    if (const std::optional<absl::string_view> pw = get("REDIS_PASSWORD");
        pw && cfg.password.empty()) {
      cfg.password = std::string(*pw);
    }
  } else {
    if (const std::optional<absl::string_view> host = get("REDIS_HOST")) {
      if (std::ranges::any_of(*host, [](char c) { return absl::ascii_isspace(c) || c == '/'; })) {
        return bad("REDIS_HOST", *host, "a host name or IP address");
      }
      cfg.host = std::string(*host);
    }
    if (const std::optional<absl::string_view> port = get("REDIS_PORT")) {
      const std::optional<int> p = ParsePort(*port);
      if (!p) return bad("REDIS_PORT", *port, "an integer in 1-65535");
      cfg.port = *p;
    }
    if (const std::optional<absl::string_view> db = get("REDIS_DB")) {
      const std::optional<int> d = ParseDb(*db);
      if (!d) return bad("REDIS_DB", *db, "a non-negative integer");
      cfg.db = *d;
    }
    if (const std::optional<absl::string_view> pw = get("REDIS_PASSWORD")) {
      cfg.password = std::string(*pw);
    }
  }
  if (const std::optional<absl::string_view> pw = get("REDIS_SENTINEL_PASSWORD")) {
    cfg.sentinel_password = std::string(*pw);
  }
  if (const std::optional<absl::string_view> ns = get("REDIS_NAMESPACE")) {
    absl::StatusOr<std::string> parsed = ParseNamespace(internal::ToStd(*ns));
    if (!parsed.ok()) {
      return bad("REDIS_NAMESPACE", *ns, "1-64 characters from [A-Za-z0-9._:-]");
    }
    cfg.key_namespace = *std::move(parsed);
  }
  return cfg;
}

}  // namespace physics::redis
