// Conversions between std::string_view (this library's API) and
// absl::string_view (absl::StrCat, absl::Status::message(), ...). Debian's
// Abseil 20220623 is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so the two
// are distinct types and do not convert implicitly.
// Thread-safety: pure functions.
#ifndef PHYSICS_ENGINE_REDIS_INTERNAL_STRING_VIEW_H_
#define PHYSICS_ENGINE_REDIS_INTERNAL_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace physics::redis::internal {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace physics::redis::internal

#endif  // PHYSICS_ENGINE_REDIS_INTERNAL_STRING_VIEW_H_
