// Event-time handling: timestamps are int64 microseconds since the Unix epoch,
// parsed from epoch seconds ("1766318400.123456") or ISO 8601 UTC, and written
// as "2025-12-21T12:00:00.123456Z" (docs/SPEC.md §3), and the wall clock read as one.
// Pure functions (but NowEpochMicros, which reads the clock); thread-safe.
#ifndef PHYSICS_ENGINE_SCHEMA_TIMESTAMP_H_
#define PHYSICS_ENGINE_SCHEMA_TIMESTAMP_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace physics::schema {

using EpochMicros = int64_t;

// Length of FormatIso8601Micros' output.
inline constexpr size_t kIso8601MicrosLength = 27;

// The wall clock now (std::chrono::system_clock), as event time: what the
// engine stamps simulated ticks and arrivals with, and what latencies from an
// event's timestamp are measured against.
inline EpochMicros NowEpochMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Accepts epoch seconds with an optional fraction ("1766318400", "1766318400.5"),
// or ISO 8601 UTC: "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)" ('T' or ' ').
// Fractions beyond microseconds are truncated. kInvalidArgument otherwise.
absl::StatusOr<EpochMicros> ParseTimestamp(std::string_view text);

// Epoch seconds as a JSON number (e.g. from a tick's "timestamp" field);
// rounds to the nearest microsecond. kInvalidArgument when not finite or
// outside years 1970..9999.
absl::StatusOr<EpochMicros> EpochMicrosFromSeconds(double seconds);

// Writes exactly kIso8601MicrosLength chars ("2025-12-21T12:00:00.123456Z")
// to `out`. REQUIRES: 0 <= micros < year 10000.
void FormatIso8601Micros(EpochMicros micros, char* out);

// Appends the ISO form to `out`.
void AppendIso8601Micros(EpochMicros micros, std::string& out);

}  // namespace physics::schema

#endif  // PHYSICS_ENGINE_SCHEMA_TIMESTAMP_H_
