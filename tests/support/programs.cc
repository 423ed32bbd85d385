#include "tests/support/programs.h"

#include <unistd.h>

#include <climits>

#include "absl/strings/str_cat.h"

namespace physics::testing {

const std::vector<std::string> kConfigEnvironment = {
    "REDIS_URL",      "REDIS_HOST",      "REDIS_PORT",          "REDIS_DB",
    "REDIS_PASSWORD", "REDIS_NAMESPACE", "PHYSICS_BRIDGE_TOKEN"};

absl::StatusOr<Process> SpawnWithRedis(const std::string& program, const std::string& redis_url,
                                       std::vector<std::string> args, EnvVars env) {
  args.insert(args.begin(), program);
  env.emplace_back("REDIS_URL", redis_url);
  return Process::Spawn({.argv = std::move(args), .env = std::move(env), .unset_env = kConfigEnvironment});
}

std::string EngineId(const Process& p) {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return absl::StrCat("localhost-", p.pid());
  }
  return absl::StrCat(host, "-", p.pid());
}

RunResult RunToCompletion(std::vector<std::string> argv, absl::Duration timeout, EnvVars env) {
  absl::StatusOr<Process> p =
      Process::Spawn({.argv = std::move(argv), .env = std::move(env), .unset_env = kConfigEnvironment});
  if (!p.ok()) return {-1, "", std::string(p.status().message())};
  absl::StatusOr<ExitStatus> st = p->Wait(timeout);
  if (!st.ok()) p->Kill();
  return {st.ok() && st->signal == 0 ? st->exit_code : -1, p->ReadStdout(), p->ReadStderr()};
}

}  // namespace physics::testing
