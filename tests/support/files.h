// Files and text for integration tests: write a test's input file, find a
// program on PATH, count a phrase in a program's log.
// Thread-safe (stateless).
#ifndef PHYSICS_TESTS_SUPPORT_FILES_H_
#define PHYSICS_TESTS_SUPPORT_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace physics::testing {

// Creates or truncates `path` and writes `text`. kInternal naming the path
// when it cannot be written.
absl::Status WriteFile(const std::string& path, std::string_view text);

// True when a directory of $PATH holds an executable `program`.
bool OnPath(std::string_view program);

// How many times `phrase` occurs in `text` (overlapping ones too).
// REQUIRES: !phrase.empty().
size_t CountOf(std::string_view text, std::string_view phrase);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_FILES_H_
