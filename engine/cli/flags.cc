#include "engine/cli/flags.h"

#include <charconv>
#include <cmath>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace physics::cli {
namespace {

// "100000", "0.001", "1e+07": short and exact enough for help and errors.
std::string FormatNumber(double value) { return absl::StrCat(value); }

}  // namespace

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::Add(std::string name, std::string help, std::string default_text, bool is_bool,
                  std::function<absl::Status(std::string_view)> set) {
  flags_.push_back(Flag{std::move(name), std::move(help), std::move(default_text), is_bool,
                        false, std::move(set)});
}

void FlagSet::AddString(std::string name, std::string* target, std::string help) {
  Add(std::move(name), std::move(help), *target, false, [target](std::string_view v) {
    target->assign(v);
    return absl::OkStatus();
  });
}

void FlagSet::AddChecked(std::string name, std::string* target, std::string help,
                         std::function<absl::Status(std::string_view)> validate) {
  Add(std::move(name), std::move(help), *target, false,
      [target, validate = std::move(validate)](std::string_view v) {
        if (absl::Status s = validate(v); !s.ok()) return s;
        target->assign(v);
        return absl::OkStatus();
      });
}

void FlagSet::AddInt(std::string name, int64_t* target, int64_t min, int64_t max,
                     std::string help) {
  Add(std::move(name), std::move(help), absl::StrCat(*target), false,
      [target, min, max](std::string_view v) {
        int64_t value = 0;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), value);
        if (r.ec != std::errc() || r.ptr != v.data() + v.size() || value < min || value > max) {
          return absl::InvalidArgumentError(
              absl::StrCat("expected an integer from ", min, " to ", max));
        }
        *target = value;
        return absl::OkStatus();
      });
}

void FlagSet::AddDouble(std::string name, double* target, double min, double max,
                        std::string help) {
  Add(std::move(name), std::move(help), FormatNumber(*target), false,
      [target, min, max](std::string_view v) {
        double value = 0;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), value);
        if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(value) ||
            value < min || value > max) {
          return absl::InvalidArgumentError(absl::StrCat(
              "expected a number from ", FormatNumber(min), " to ", FormatNumber(max)));
        }
        *target = value;
        return absl::OkStatus();
      });
}

void FlagSet::AddBool(std::string name, bool* target, std::string help) {
  Add(std::move(name), std::move(help), *target ? "true" : "false", true,
      [target](std::string_view v) {
        if (v == "true" || v == "1" || v.empty()) {
          *target = true;
        } else if (v == "false" || v == "0") {
          *target = false;
        } else {
          return absl::InvalidArgumentError("expected true or false");
        }
        return absl::OkStatus();
      });
}

std::optional<int> FlagSet::Parse(int argc, const char* const* argv) {
  return Parse(argc, argv, std::cout, std::cerr);
}

std::optional<int> FlagSet::Parse(int argc, const char* const* argv, std::ostream& out,
                                  std::ostream& err) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out << Help();
      return 0;
    }
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      return UsageError(absl::StrCat("unexpected argument '", std::string(arg), "': flags look like --name value (see --help)"), err);
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    Flag* flag = nullptr;
    for (Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      return UsageError(absl::StrCat("unknown flag --", std::string(name), " (see --help)"), err);
    }
    if (!value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return UsageError(absl::StrCat("--", std::string(name), " needs a value"), err);
      }
    }
    if (absl::Status s = flag->set(*value); !s.ok()) {
      return UsageError(absl::StrCat("invalid value '", std::string(*value), "' for --", std::string(name), ": ", s.message()),
                        err);
    }
    flag->was_set = true;
  }
  return std::nullopt;
}

bool FlagSet::WasSet(std::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.was_set;
  }
  return false;
}

int FlagSet::UsageError(std::string_view message, std::ostream& err) const {
  err << program_ << ": " << message << "\n";
  return kUsageExitCode;
}

int FlagSet::UsageError(std::string_view message) const { return UsageError(message, std::cerr); }

int FlagSet::UsageError(const absl::Status& status) const {
  return UsageError(std::string_view(status.message().data(), status.message().size()), std::cerr);
}

std::string FlagSet::Help() const {
  std::string text = absl::StrCat("Usage: ", program_, " [flags]\n\n", summary_, "\n\nFlags:\n");
  for (const Flag& f : flags_) {
    const std::string lhs = absl::StrCat("  --", f.name, f.is_bool ? "" : " VALUE");
    absl::StrAppendFormat(&text, "%-24s %s", lhs, f.help);
    if (!f.default_text.empty()) absl::StrAppend(&text, " (default: ", f.default_text, ")");
    text.push_back('\n');
  }
  absl::StrAppend(&text, "  --help                   print this help and exit\n");
  return text;
}

}  // namespace physics::cli
