// Command-line flags for the project's programs: `--name value` or
// `--name=value`, typed and range-checked, with a generated `--help`.
// A bad value is one line naming it and what is accepted, exit code 2
// (docs/SPEC.md §7). Not thread-safe: used once by main().
//
//   FlagSet flags("physics-engine", "Computes the physics vector ...");
//   double hz = 1;
//   flags.AddDouble("hz", &hz, 0.001, 100000, "loop ticks per second");
//   if (std::optional<int> exit_code = flags.Parse(argc, argv)) return *exit_code;
#ifndef PHYSICS_ENGINE_CLI_FLAGS_H_
#define PHYSICS_ENGINE_CLI_FLAGS_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace physics::cli {

// Exit code for bad command-line or environment values.
inline constexpr int kUsageExitCode = 2;

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Each Add* registers --name; the target's current value is the default
  // shown in --help. Targets must outlive Parse().
  void AddString(std::string name, std::string* target, std::string help);
  void AddInt(std::string name, int64_t* target, int64_t min, int64_t max, std::string help);
  void AddDouble(std::string name, double* target, double min, double max, std::string help);
  void AddBool(std::string name, bool* target, std::string help);
  // A string flag whose value is checked by `validate` (an error Status's
  // message says what is accepted).
  void AddChecked(std::string name, std::string* target, std::string help,
                  std::function<absl::Status(std::string_view)> validate);

  // Parses argv[1..]. Returns std::nullopt to continue, or the exit code the
  // program should return: 0 after printing --help to `out`, 2 after printing
  // one error line to `err`.
  std::optional<int> Parse(int argc, const char* const* argv, std::ostream& out,
                           std::ostream& err);
  std::optional<int> Parse(int argc, const char* const* argv);

  // Whether --name was given on the command line (so it overrides the
  // environment).
  bool WasSet(std::string_view name) const;

  // Prints "program: message" and returns kUsageExitCode, for errors found
  // after parsing (e.g. in the environment).
  int UsageError(std::string_view message, std::ostream& err) const;
  int UsageError(std::string_view message) const;
  // Same, with the message of `status` (which names the bad value).
  int UsageError(const absl::Status& status) const;

  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool was_set = false;
    std::function<absl::Status(std::string_view)> set;
  };
  void Add(std::string name, std::string help, std::string default_text, bool is_bool,
           std::function<absl::Status(std::string_view)> set);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
};

}  // namespace physics::cli

#endif  // PHYSICS_ENGINE_CLI_FLAGS_H_
