// The Redis settings of the operator tools, resolved exactly as
// physics-engine and physics-bridge do (SPEC §8): the environment
// (ConfigFromEnv), then --redis-url, then --namespace.
// Not thread-safe: used once by main().
#ifndef PHYSICS_TOOLS_STATUS_TOOL_CONFIG_H_
#define PHYSICS_TOOLS_STATUS_TOOL_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/cli/flags.h"
#include "engine/redis/config.h"

namespace physics::ops {

// Registers --redis-url and --namespace on `flags`, writing to the targets.
void AddRedisFlags(cli::FlagSet& flags, std::string* redis_url, std::string* key_namespace);

// After flags.Parse(): the environment overridden by the flags that were
// given. kInvalidArgument naming the bad variable or flag value.
absl::StatusOr<redis::Config> ResolveRedisConfig(const cli::FlagSet& flags, const std::string& redis_url,
                                                 const std::string& key_namespace);

// "redis://127.0.0.1:6379/0" plus ", namespace agentic" when one is set.
std::string DescribeTarget(const redis::Config& cfg);

}  // namespace physics::ops

#endif  // PHYSICS_TOOLS_STATUS_TOOL_CONFIG_H_
