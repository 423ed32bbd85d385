// Fuzzes redis::ParseRedisUrl and redis::ParseNamespace (docs/SPEC.md §8). The input
// is used twice: as a whole URL, and split into the parts around a known
// password, url = scheme + A + ":" + kSecret + "@" + B.
// Checks: an accepted URL gives a usable address (a unix path that is
// absolute, a host and a port in 1-65535, or sentinels that each have both
// and a master name) and db >= 0; errors are one
// line; neither Describe() nor an error message ever shows the password; an
// accepted namespace is 1-64 of [A-Za-z0-9._:-] without a trailing ':', and
// parsing it again gives it back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>

#include "absl/strings/str_cat.h"
#include "engine/redis/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

constexpr std::string_view kSecret = "Sw0rdf1shX";

void CheckConfig(const redis::Config& cfg, std::string_view url) {
  if (cfg.uses_sentinels()) {
    Check(!cfg.sentinels->addresses().empty(), "sentinel URL: at least one sentinel", url);
    for (const redis::HostPort& s : cfg.sentinels->addresses()) {
      Check(!s.host.empty(), "sentinel URL: each sentinel has a host", url);
      Check(s.port >= 1 && s.port <= 65535, "sentinel URL: port in 1-65535", url);
    }
    Check(!cfg.master_name.empty(), "sentinel URL: a master name", url);
  } else if (!cfg.unix_path.empty()) {
    Check(cfg.unix_path.size() >= 2 && cfg.unix_path[0] == '/', "unix URL: absolute socket path", url);
  } else {
    Check(!cfg.host.empty(), "redis URL: a host", url);
    Check(cfg.port >= 1 && cfg.port <= 65535, "redis URL: port in 1-65535", url);
  }
  Check(cfg.db >= 0, "redis URL: db >= 0", url);
  Check(cfg.key_namespace.empty(), "a URL sets no namespace", url);
}

void FuzzWholeUrl(std::string_view url) {
  absl::StatusOr<redis::Config> cfg = redis::ParseRedisUrl(url);
  if (!cfg.ok()) {
    Check(IsOneLine(cfg.status().message()) || !IsOneLine(url), "redis URL error is one line",
          cfg.status().message());
    return;
  }
  CheckConfig(*cfg, url);
}

void FuzzPassword(FuzzedDataProvider& in) {
  static constexpr std::string_view kSchemes[] = {"redis://", "unix://", "REDIS://", "Unix://",
                                                   "redis-sentinel://"};
  const std::string_view scheme = in.PickValueInArray(kSchemes);
  const std::string a = in.ConsumeRandomLengthString(256);
  const std::string b = in.ConsumeRemainingBytesAsString();
  if (Contains(a, kSecret) || Contains(b, kSecret)) return;
  // In a unix URL a leading '/' starts the path and '?' the query: then kSecret
  // is not in the userinfo, so it is no password.
  if (scheme[0] != 'r' && scheme[0] != 'R' &&
      (a.starts_with('/') || a.find('?') != std::string::npos)) {
    return;
  }
  const std::string url = absl::StrCat(std::string(scheme), a, ":", std::string(kSecret), "@", b);
  absl::StatusOr<redis::Config> cfg = redis::ParseRedisUrl(url);
  if (!cfg.ok()) {
    Check(!Contains(cfg.status().message(), kSecret),
          "a redis URL error never shows the password", cfg.status().message());
    return;
  }
  CheckConfig(*cfg, url);
  Check(Contains(cfg->password, kSecret), "the password is read from the userinfo",
        url);
  Check(!Contains(cfg->Describe(), kSecret), "Describe() never shows the password",
        cfg->Describe());
}

void FuzzNamespace(std::string_view ns) {
  absl::StatusOr<std::string> parsed = redis::ParseNamespace(ns);
  if (!parsed.ok()) {
    Check(IsOneLine(parsed.status().message()) || !IsOneLine(ns), "namespace error is one line");
    return;
  }
  const std::string& p = *parsed;
  Check(p.size() <= 64 && (p.empty() || p.back() != ':'), "namespace: <= 64 chars, no trailing ':'", p);
  Check(p.empty() == ns.empty(), "namespace: only \"\" means none", p);
  for (const char c : p) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    Check(ok, "namespace: characters from [A-Za-z0-9._:-]", p);
  }
  absl::StatusOr<std::string> again = redis::ParseNamespace(p);
  Check(again.ok() && *again == p, "namespace: parsing the result again gives it back", p);
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  physics::fuzz::FuzzWholeUrl(text);
  physics::fuzz::FuzzNamespace(text);
  FuzzedDataProvider in(data, size);
  physics::fuzz::FuzzPassword(in);
  return 0;
}
