// Fuzzes redis::ConfigFromEnv through an injected getenv: each of REDIS_URL,
// REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_NAMESPACE is unset or a fuzzed
// value; REDIS_PASSWORD is unset or a known secret.
// Checks: the result agrees with ParseRedisUrl (when REDIS_URL is set) or with
// the separate variables; the password comes from the URL, else from
// REDIS_PASSWORD; the port is in 1-65535 and db >= 0; neither Describe() nor
// an error message shows REDIS_PASSWORD's value.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>

#include "absl/strings/str_cat.h"
#include "engine/redis/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace physics::fuzz {
namespace {

constexpr std::string_view kSecret = "Sw0rdf1shX";

void FuzzOne(FuzzedDataProvider& in) {
  std::map<std::string, std::string> env;
  for (const char* name :
       {"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_NAMESPACE"}) {
    if (!in.ConsumeBool()) continue;
    std::string value = in.ConsumeRandomLengthString(128);
    value = value.substr(0, value.find('\0'));  // an environment value ends at NUL
    if (Contains(value, kSecret)) return;
    env[name] = value;
  }
  if (in.ConsumeBool()) env["REDIS_PASSWORD"] = std::string(kSecret);
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto get = [&env](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };

  absl::StatusOr<redis::Config> cfg = redis::ConfigFromEnv(getenv);
  if (!cfg.ok()) {
    Check(!Contains(cfg.status().message(), kSecret),
          "a config error never shows REDIS_PASSWORD", cfg.status().message());
    return;
  }
  Check(!Contains(cfg->Describe(), kSecret), "Describe() never shows the password",
        cfg->Describe());
  Check(cfg->db >= 0, "config: db >= 0");
  const std::string& password = get("REDIS_PASSWORD");
  if (const std::string url = get("REDIS_URL"); !url.empty()) {
    absl::StatusOr<redis::Config> from_url = redis::ParseRedisUrl(url);
    Check(from_url.ok(), "REDIS_URL accepted by ConfigFromEnv is accepted by ParseRedisUrl", url);
    Check(cfg->host == from_url->host && cfg->port == from_url->port &&
              cfg->unix_path == from_url->unix_path && cfg->user == from_url->user &&
              cfg->db == from_url->db,
          "REDIS_URL gives what ParseRedisUrl gives", url);
    Check(cfg->password == (from_url->password.empty() ? password : from_url->password),
          "the URL's password, else REDIS_PASSWORD", url);
  } else {
    Check(cfg->unix_path.empty() && cfg->user.empty(), "no REDIS_URL: TCP, default user");
    Check(cfg->port >= 1 && cfg->port <= 65535, "config: port in 1-65535");
    const std::string host = get("REDIS_HOST");
    Check(cfg->host == (host.empty() ? "127.0.0.1" : host), "REDIS_HOST, else 127.0.0.1");
    Check(cfg->password == password, "REDIS_PASSWORD is the password");
  }
  const std::string ns = get("REDIS_NAMESPACE");
  absl::StatusOr<std::string> parsed_ns = redis::ParseNamespace(ns);
  Check(parsed_ns.ok() && *parsed_ns == cfg->key_namespace,
        "REDIS_NAMESPACE gives what ParseNamespace gives", ns);
  Check(cfg->Key("k") == (cfg->key_namespace.empty() ? "k" : absl::StrCat(cfg->key_namespace, ":k")),
        "Key() prefixes the namespace and ':'");
}

}  // namespace
}  // namespace physics::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  physics::fuzz::FuzzOne(in);
  return 0;
}
