// Minimal append-only JSON writing helpers for the hot path: numbers through
// std::to_chars (shortest round-trip), keys, strings (escaped or known plain),
// no allocation once `out` has grown. Every JSON string the project writes
// goes through AppendJsonString or AppendJsonPlainString. Pure functions;
// thread-safe.
#ifndef PHYSICS_ENGINE_SCHEMA_JSON_WRITER_H_
#define PHYSICS_ENGINE_SCHEMA_JSON_WRITER_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace physics::schema {

// Appends the shortest representation that round-trips. JSON has no NaN or
// Infinity: a non-finite value is written as 0 (the physics never produces
// one; this keeps a reader's parser safe if a future formula does).
inline constexpr size_t kJsonNumberBufferSize = 32;

// Writes the number into `buf` and returns a view of it.
inline std::string_view FormatJsonNumber(double value, char (&buf)[kJsonNumberBufferSize]) {
  if (!std::isfinite(value)) value = 0;
  const auto result = std::to_chars(buf, buf + kJsonNumberBufferSize, value);
  return std::string_view(buf, static_cast<size_t>(result.ptr - buf));
}

inline void AppendJsonNumber(std::string& out, double value) {
  char buf[kJsonNumberBufferSize];
  out.append(FormatJsonNumber(value, buf));
}

inline void AppendJsonNumber(std::string& out, int64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

// Appends `"key":` — keys are compile-time literals that need no escaping.
inline void AppendJsonKey(std::string& out, std::string_view key) {
  out.push_back('"');
  out.append(key);
  out.append("\":", 2);
}

// Appends a quoted string that is known to need no escaping (symbols,
// regimes, ISO timestamps all match [A-Za-z0-9._:-]).
inline void AppendJsonPlainString(std::string& out, std::string_view value) {
  out.push_back('"');
  out.append(value);
  out.push_back('"');
}

// Appends `value` as a quoted JSON string: quotes and backslashes are
// backslash-escaped, control characters written as \u00XX; every other byte is
// copied (the caller ensures UTF-8).
inline void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00", 4);
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_JSON_WRITER_H_
