#include "tests/support/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace physics::testing {

absl::Status WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

bool OnPath(std::string_view program) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':', absl::SkipEmpty())) {
    if (::access(absl::StrCat(dir, "/", absl::string_view(program.data(), program.size())).c_str(), X_OK) == 0) return true;
  }
  return false;
}

size_t CountOf(std::string_view text, std::string_view phrase) {
  size_t n = 0;
  for (size_t at = text.find(phrase); at != std::string_view::npos; at = text.find(phrase, at + 1)) ++n;
  return n;
}

}  // namespace physics::testing
