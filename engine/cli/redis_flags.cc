#include "engine/cli/redis_flags.h"

#include "absl/strings/str_cat.h"

namespace physics::cli {

void AddRedisFlags(FlagSet& flags, std::string* redis_url, std::string* key_namespace) {
  flags.AddString("redis-url", redis_url,
                  "redis://[[user]:password@]host:port[/db], unix:///path.sock or "
                  "redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#MASTER "
                  "(sentinels' password: $REDIS_SENTINEL_PASSWORD) "
                  "(default: $REDIS_URL or redis://127.0.0.1:6379/0)");
  flags.AddString("namespace", key_namespace,
                  "prefix of every key and channel, e.g. agentic (default: $REDIS_NAMESPACE or none)");
}

absl::StatusOr<redis::Config> ResolveRedisConfig(const FlagSet& flags, const std::string& redis_url,
                                                 const std::string& key_namespace) {
  absl::StatusOr<redis::Config> config = redis::ConfigFromEnv();
  if (!config.ok()) return config.status();
  if (flags.WasSet("redis-url")) {
    absl::StatusOr<redis::Config> from_flag = redis::ParseRedisUrl(redis_url);
    if (!from_flag.ok()) return from_flag.status();
    from_flag->key_namespace = config->key_namespace;
    from_flag->sentinel_password = config->sentinel_password;
    config = std::move(from_flag);
  }
  if (flags.WasSet("namespace")) {
    absl::StatusOr<std::string> ns = redis::ParseNamespace(key_namespace);
    if (!ns.ok()) return ns.status();
    config->key_namespace = *ns;
  }
  return config;
}

std::string DescribeTarget(const redis::Config& cfg) {
  return absl::StrCat(cfg.Describe(), cfg.key_namespace.empty() ? "" : ", namespace ", cfg.key_namespace);
}

}  // namespace physics::cli
