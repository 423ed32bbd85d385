#include "engine/schema/symbol.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"

namespace physics::schema {
namespace {

bool IsSymbolChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

absl::Status NormalizeSymbol(std::string_view raw, std::string& out) {
  if (raw.empty() || raw.size() > kMaxSymbolLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad symbol '", absl::CHexEscape(std::string(raw.substr(0, 64))),
                     "': expected 1 to 32 characters of [A-Z0-9._-]"));
  }
  out.resize(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!IsSymbolChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad symbol '", absl::CHexEscape(std::string(raw)),
                       "': expected 1 to 32 characters of [A-Z0-9._-]"));
    }
    out[i] = c;
  }
  return absl::OkStatus();
}

}  // namespace physics::schema
