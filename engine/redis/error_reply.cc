#include "engine/redis/error_reply.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/redis/internal/string_view.h"

namespace physics::redis {
namespace {

constexpr std::array<std::string_view, 14> kStatePrefixes = {
    "WRONGTYPE", "READONLY",  "LOADING",    "BUSY",     "OOM",
    "MISCONF",   "NOSCRIPT",  "EXECABORT",  "MASTERDOWN", "NOREPLICAS",
    "TRYAGAIN",  "CLUSTERDOWN", "MOVED",    "ASK"};

}  // namespace

absl::Status StatusFromErrorReply(std::string_view text) {
  const std::string_view prefix = text.substr(0, text.find(' '));
  const std::string message = absl::StrCat("Redis error: ", internal::ToAbsl(text));
  if (prefix == "NOAUTH" || prefix == "WRONGPASS") return absl::UnauthenticatedError(message);
  if (prefix == "NOPERM") return absl::PermissionDeniedError(message);
  if (std::find(kStatePrefixes.begin(), kStatePrefixes.end(), prefix) != kStatePrefixes.end()) {
    return absl::FailedPreconditionError(message);
  }
  return absl::InternalError(message);
}

bool IsDemotedMasterError(std::string_view text) {
  return text.substr(0, text.find(' ')) == "READONLY";
}

std::string_view ErrorReplyText(const absl::Status& s) {
  return internal::ToStd(absl::StripPrefix(s.message(), "Redis error: "));
}

}  // namespace physics::redis
