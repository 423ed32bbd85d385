// A fresh directory under $TMPDIR (or /tmp) for one test's files, removed with
// everything in it when the TempDir is destroyed.
// Not thread-safe: one owner.
#ifndef PHYSICS_TESTS_SUPPORT_TEMP_DIR_H_
#define PHYSICS_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace physics::testing {

class TempDir {
 public:
  // Creates "<tmp>/<prefix>XXXXXX". Errors: kInternal with the errno text.
  static absl::StatusOr<TempDir> Create(std::string_view prefix = "physics-");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;  // empty when moved from
};

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_TEMP_DIR_H_
