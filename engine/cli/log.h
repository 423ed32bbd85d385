// One-line log records on stderr: "2025-12-21T12:00:00.123456Z physics-engine WARN message".
// Thread-safe: each record is written with a single write(2).
#ifndef PHYSICS_ENGINE_CLI_LOG_H_
#define PHYSICS_ENGINE_CLI_LOG_H_

#include <string_view>

namespace physics::cli {

enum class LogLevel { kInfo, kWarn, kError };

// Sets the program name printed on every record (default "physics").
void SetLogProgram(std::string_view program);

// Writes one record. `message` must not contain a newline.
void Log(LogLevel level, std::string_view message);

inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace physics::cli

#endif  // PHYSICS_ENGINE_CLI_LOG_H_
