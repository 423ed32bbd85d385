#include "engine/schema/timestamp.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace physics::schema {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// 9999-12-31T23:59:59.999999Z
constexpr int64_t kMaxMicros = 253'402'300'799'999'999;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

void WriteDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool ReadDigits(std::string_view text, size_t pos, size_t width, int64_t& value) {
  if (pos + width > text.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

absl::Status BadTimestamp(std::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(
      "bad timestamp '", absl::CHexEscape(std::string(text.substr(0, 64))),
      "': expected epoch seconds (e.g. 1766318400.123456) or ISO 8601 UTC "
      "(e.g. 2025-12-21T12:00:00.123456Z)"));
}

// Parses ".ffffff" starting at `pos`; advances `pos`. Truncates past micros.
bool ReadFraction(std::string_view text, size_t& pos, int64_t& micros) {
  micros = 0;
  if (pos >= text.size() || text[pos] != '.') return true;
  ++pos;
  int digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (digits < 6) micros = micros * 10 + (text[pos] - '0');
    ++digits;
    ++pos;
  }
  if (digits == 0) return false;
  for (int i = digits; i < 6; ++i) micros *= 10;
  return true;
}

absl::StatusOr<EpochMicros> ParseEpochSeconds(std::string_view text) {
  int64_t seconds = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  if (ec != std::errc() || seconds < 0 || seconds > kMaxMicros / kMicrosPerSecond) {
    return BadTimestamp(text);
  }
  size_t pos = static_cast<size_t>(ptr - text.data());
  int64_t fraction = 0;
  if (!ReadFraction(text, pos, fraction) || pos != text.size()) return BadTimestamp(text);
  return seconds * kMicrosPerSecond + fraction;
}

absl::StatusOr<EpochMicros> ParseIso8601(std::string_view text) {
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, year) || text[4] != '-' || !ReadDigits(text, 5, 2, month) ||
      text[7] != '-' || !ReadDigits(text, 8, 2, day) || (text[10] != 'T' && text[10] != ' ') ||
      !ReadDigits(text, 11, 2, hour) || text[13] != ':' || !ReadDigits(text, 14, 2, minute) ||
      text[16] != ':' || !ReadDigits(text, 17, 2, second)) {
    return BadTimestamp(text);
  }
  static constexpr unsigned kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || month < 1 || month > 12 || day < 1 ||
      day > kDaysInMonth[month - 1] || hour > 23 || minute > 59 || second > 60) {
    return BadTimestamp(text);
  }
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  // Reject Feb 29 in a non-leap year: the civil round trip must agree.
  int64_t y2;
  unsigned m2, d2;
  CivilFromDays(days, y2, m2, d2);
  if (m2 != month || d2 != day) return BadTimestamp(text);

  size_t pos = 19;
  int64_t fraction = 0;
  if (!ReadFraction(text, pos, fraction)) return BadTimestamp(text);
  const std::string_view zone = text.substr(pos);
  if (zone != "Z" && zone != "+00:00" && zone != "+0000") return BadTimestamp(text);
  return days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
}

}  // namespace

absl::StatusOr<EpochMicros> ParseTimestamp(std::string_view text) {
  if (text.size() >= 20 && text[4] == '-') return ParseIso8601(text);
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') return ParseEpochSeconds(text);
  return BadTimestamp(text);
}

absl::StatusOr<EpochMicros> EpochMicrosFromSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 ||
      seconds >= static_cast<double>(kMaxMicros / kMicrosPerSecond)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad timestamp ", seconds, ": expected epoch seconds from 1970 to 9999"));
  }
  return static_cast<EpochMicros>(std::llround(seconds * 1e6));
}

void FormatIso8601Micros(EpochMicros micros, char* out) {
  const int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  // The date changes once a day while the engine formats every state's
  // timestamp: each thread keeps the last one it wrote.
  thread_local int64_t cached_days = INT64_MIN;  // no day: the first call fills it
  thread_local char cached_date[10];
  if (days != cached_days) {
    int64_t year;
    unsigned month, day;
    CivilFromDays(days, year, month, day);
    WriteDigits(cached_date, year, 4);
    cached_date[4] = '-';
    WriteDigits(cached_date + 5, month, 2);
    cached_date[7] = '-';
    WriteDigits(cached_date + 8, day, 2);
    cached_days = days;
  }
  std::memcpy(out, cached_date, sizeof(cached_date));
  const int64_t second_of_day = rest / kMicrosPerSecond;
  out[10] = 'T';
  WriteDigits(out + 11, second_of_day / 3600, 2);
  out[13] = ':';
  WriteDigits(out + 14, second_of_day / 60 % 60, 2);
  out[16] = ':';
  WriteDigits(out + 17, second_of_day % 60, 2);
  out[19] = '.';
  WriteDigits(out + 20, rest % kMicrosPerSecond, 6);
  out[26] = 'Z';
}

void AppendIso8601Micros(EpochMicros micros, std::string& out) {
  const size_t at = out.size();
  out.resize(at + kIso8601MicrosLength);
  FormatIso8601Micros(micros, out.data() + at);
}

}  // namespace physics::schema
