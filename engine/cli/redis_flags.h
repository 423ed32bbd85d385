// The --redis-url and --namespace flags every program takes, resolved the one
// way docs/SPEC.md §8 asks: the environment (redis::ConfigFromEnv), then --redis-url,
// then --namespace. Shared by the engine, the bridge and the tools.
// Not thread-safe: used once by main().
#ifndef PHYSICS_ENGINE_CLI_REDIS_FLAGS_H_
#define PHYSICS_ENGINE_CLI_REDIS_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/cli/flags.h"
#include "engine/redis/config.h"

namespace physics::cli {

// The end of a program's --help description for the Redis settings.
inline constexpr char kRedisEnvironmentHelp[] =
    "\n\nEnvironment: REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD; REDIS_NAMESPACE.\n"
    "Flags override the environment.";

// Registers --redis-url and --namespace on `flags`, writing to the targets.
void AddRedisFlags(FlagSet& flags, std::string* redis_url, std::string* key_namespace);

// After flags.Parse(): the environment overridden by the flags that were
// given. kInvalidArgument naming the bad variable or flag value.
absl::StatusOr<redis::Config> ResolveRedisConfig(const FlagSet& flags, const std::string& redis_url,
                                                 const std::string& key_namespace);

// "redis://127.0.0.1:6379/0" plus ", namespace agentic" when one is set.
std::string DescribeTarget(const redis::Config& cfg);

}  // namespace physics::cli

#endif  // PHYSICS_ENGINE_CLI_REDIS_FLAGS_H_
