#include "bridge/auth.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace physics::bridge {
namespace {

constexpr size_t kMaxTokenBytes = 4096;
constexpr std::string_view kBearer = "bearer ";

// std::string_view helpers: Debian's absl::string_view is not std's.
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

// Calls `f` with each `separator`-separated piece of `s` (empty ones too).
template <typename F>
void ForEachPiece(std::string_view s, char separator, F f) {
  while (true) {
    const size_t end = s.find(separator);
    f(s.substr(0, end));
    if (end == std::string_view::npos) return;
    s.remove_prefix(end + 1);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and '+' (a space) decoded; a malformed escape is kept as it is.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

}  // namespace

bool TokenMatches(std::string_view expected, std::string_view given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(expected[i] ^ g);
  }
  return diff == 0;
}

std::optional<std::string> RequestToken(std::string_view authorization, std::string_view target) {
  authorization = Trim(authorization);
  if (authorization.size() > kBearer.size() &&
      EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
    return std::string(Trim(authorization.substr(kBearer.size())));
  }
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  std::optional<std::string> token;
  ForEachPiece(query, '&', [&](std::string_view param) {
    if (!token && param.starts_with("token=")) token = PercentDecode(param.substr(6));
  });
  return token;
}

bool OriginAllowed(const std::vector<std::string>& allowed, std::optional<std::string_view> origin) {
  if (allowed.empty() || !origin) return true;
  const std::string_view o = Trim(*origin);
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return EqualsIgnoreCase(entry, o); });
}

absl::Status CheckToken(std::string_view token, std::string_view source) {
  const bool visible = std::all_of(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (token.empty() || token.size() > kMaxTokenBytes || !visible) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(source), ": expected a token of 1-", kMaxTokenBytes,
        " visible ASCII characters (no spaces or control characters); got ",
        token.empty() || token.size() > kMaxTokenBytes
            ? absl::StrCat(token.size(), " characters")
            : std::string("a space, control or non-ASCII character")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::string token;
  int error = 0;
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    char buffer[1024];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0 && token.size() <= kMaxTokenBytes) {
      token.append(buffer, n);
    }
    if (std::ferror(file)) error = errno != 0 ? errno : EIO;
    std::fclose(file);
  } else {
    error = errno;
  }
  if (error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file \"", path, "\": cannot read it: ", std::strerror(error)));
  }
  if (token.ends_with('\n')) token.pop_back();
  if (token.ends_with('\r')) token.pop_back();
  if (absl::Status s = CheckToken(token, absl::StrCat("--token-file \"", path, "\"")); !s.ok()) {
    return s;
  }
  return token;
}

absl::StatusOr<std::vector<std::string>> ParseOriginList(std::string_view text) {
  std::vector<std::string> out;
  absl::Status status;
  ForEachPiece(text, ',', [&](std::string_view entry) {
    if (!status.ok()) return;
    entry = Trim(entry);
    const size_t scheme_end = entry.find("://");
    const bool visible = std::all_of(entry.begin(), entry.end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
    });
    if (entry.empty() || !visible || scheme_end == std::string_view::npos || scheme_end == 0 ||
        entry.size() == scheme_end + 3 || entry.find('/', scheme_end + 3) != std::string_view::npos) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "--allowed-origins entry \"", std::string(entry),
          "\": expected comma-separated origins as browsers send them, scheme://host[:port] "
          "without a path (e.g. https://dash.example.com,http://localhost:3000)"));
      return;
    }
    std::string origin(entry);
    std::transform(origin.begin(), origin.end(), origin.begin(), Lower);
    if (std::find(out.begin(), out.end(), origin) == out.end()) out.push_back(std::move(origin));
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace physics::bridge
