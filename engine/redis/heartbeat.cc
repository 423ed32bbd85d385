#include "engine/redis/heartbeat.h"

#include <unistd.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

constexpr std::string_view kTtlText = "30";
static_assert(Heartbeat::kTtl.count() == 30, "kTtlText must match kTtl");

}  // namespace

std::string InstanceId() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return absl::StrCat("localhost-", ::getpid());
  }
  return absl::StrCat(host, "-", ::getpid());
}

Heartbeat::Heartbeat(const Config& config, std::string_view service, std::string_view id,
                     std::string_view value)
    : key_(config.Key(absl::StrCat("ops:hb:", internal::ToAbsl(service), ":",
                                   internal::ToAbsl(id)))),
      value_(value) {}

std::array<std::string_view, 5> Heartbeat::SetArgv() const {
  return {"SET", key_, value_, "EX", kTtlText};
}

void Heartbeat::Append(Pipeline& pipeline) const { pipeline.Append(SetArgv()); }

void Heartbeat::AppendRemove(Pipeline& pipeline) const { pipeline.Append(RemoveArgv()); }

}  // namespace physics::redis
