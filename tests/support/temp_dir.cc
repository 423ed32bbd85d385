#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"

namespace physics::testing {

absl::StatusOr<TempDir> TempDir::Create(std::string_view prefix) {
  const char* tmp = ::getenv("TMPDIR");
  std::string pattern = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  pattern.append("/").append(prefix).append("XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp(", pattern, ") failed: ", std::strerror(errno)));
  }
  return TempDir(std::move(pattern));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

std::string TempDir::File(std::string_view name) const {
  std::string file = path_;
  file.append("/").append(name);
  return file;
}

void TempDir::Remove() {
  if (path_.empty()) return;
  std::error_code ignored;  // best effort: a leftover temp dir is not worth failing a test
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

}  // namespace physics::testing
