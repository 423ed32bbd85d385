// Contract checks shared by the fuzz targets: a broken invariant prints what
// broke and aborts, which libFuzzer reports as a crash and saves the input.
// Thread-safety: pure functions (libFuzzer runs one input at a time).
#ifndef PHYSICS_TESTS_FUZZ_FUZZ_CHECK_H_
#define PHYSICS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/schema/tick.h"

namespace physics::fuzz {

[[noreturn]] inline void Fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\nINVARIANT BROKEN: %.*s\n  %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// `Text` is any string type: Debian's Abseil has its own absl::string_view
// (Status::message()), which does not convert to std::string_view.
template <typename Text = std::string_view>
void Check(bool ok, std::string_view what, const Text& detail = {}) {
  if (!ok) Fail(what, std::string_view(detail.data(), detail.size()));
}

// A user-facing error is one line (STYLE: "a user-facing error is one line").
template <typename Text>
bool IsOneLine(const Text& s) {
  return std::string_view(s.data(), s.size()).find_first_of("\r\n") == std::string_view::npos;
}

template <typename Text>
bool Contains(const Text& s, std::string_view needle) {
  return std::string_view(s.data(), s.size()).find(needle) != std::string_view::npos;
}

// [A-Z0-9._-]{1,32} (docs/SPEC.md §2).
inline bool IsNormalSymbol(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), as a
// WebSocket text frame must be.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    unsigned min, cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// What schema::ValidateTick promises about a tick it accepted (docs/SPEC.md §4).
inline void CheckValidTick(const schema::Tick& t) {
  Check(IsNormalSymbol(t.symbol), "valid tick: symbol matches [A-Z0-9._-]{1,32}", t.symbol);
  Check(t.price > 0 && std::isfinite(t.price), "valid tick: price > 0 and finite");
  Check(t.size >= 0 && std::isfinite(t.size), "valid tick: size >= 0 and finite");
  Check(t.trades >= 0 && std::isfinite(t.trades) && t.trades == std::floor(t.trades),
        "valid tick: trades is an integer >= 0");
  Check(std::isnan(t.bid) || (t.bid > 0 && std::isfinite(t.bid)), "valid tick: bid NaN or > 0");
  Check(std::isnan(t.ask) || (t.ask > 0 && std::isfinite(t.ask)), "valid tick: ask NaN or > 0");
  // 9999-12-31T23:59:59.999999Z, the last instant ParseTimestamp accepts.
  Check(t.timestamp > 0 && t.timestamp <= 253'402'300'799'999'999, "valid tick: timestamp in range");
}

// Field-by-field equality; NaN (an absent quote) equals NaN.
inline bool SameTick(const schema::Tick& a, const schema::Tick& b) {
  auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  return a.symbol == b.symbol && same(a.price, b.price) && same(a.size, b.size) &&
         same(a.trades, b.trades) && same(a.bid, b.bid) && same(a.ask, b.ask) &&
         a.timestamp == b.timestamp;
}

}  // namespace physics::fuzz

#endif  // PHYSICS_TESTS_FUZZ_FUZZ_CHECK_H_
