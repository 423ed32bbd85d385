// Programs as test subjects: the project's binaries started against a test
// Redis, and any program run to completion with its output captured. Every
// program started here gets a clean configuration environment (no REDIS_* or
// PHYSICS_BRIDGE_TOKEN from the developer's shell), so a test sets what it means.
// Thread-safe (stateless); each Process has one owner.
#ifndef PHYSICS_TESTS_SUPPORT_PROGRAMS_H_
#define PHYSICS_TESTS_SUPPORT_PROGRAMS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/process.h"

namespace physics::testing {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// The variables that configure the programs (docs/SPEC.md §8); removed from
// every child started here before `env` is applied.
extern const std::vector<std::string> kConfigEnvironment;

// Starts `program` with `args` and REDIS_URL=`redis_url` (plus `env`).
absl::StatusOr<Process> SpawnWithRedis(const std::string& program, const std::string& redis_url,
                                       std::vector<std::string> args = {}, EnvVars env = {});

struct RunResult {
  int exit_code = -1;  // -1: could not start, killed by a signal, or timed out
  std::string out;
  std::string err;     // or why it could not start
};

// The id an engine started as `p` names itself by ({hostname}-{pid}, as
// redis::InstanceId): its heartbeat ops:hb:engine:{id}, the lease's value.
std::string EngineId(const Process& p);

// Runs argv (with `env`) until it exits, killing it after `timeout`.
RunResult RunToCompletion(std::vector<std::string> argv, absl::Duration timeout = absl::Seconds(15),
                          EnvVars env = {});

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_PROGRAMS_H_
