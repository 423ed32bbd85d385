// One-line log records on stderr: "2025-12-21T12:00:00.123456Z physics-engine WARN message".
// The bottom of the stack: the programs, feeds, loop and bridge log through it
// without depending on flag parsing or Redis.
// Thread-safe: each record is written with a single write(2).
#ifndef PHYSICS_ENGINE_LOG_LOG_H_
#define PHYSICS_ENGINE_LOG_LOG_H_

#include <string_view>

namespace physics::log {

enum class Level { kInfo, kWarn, kError };

// Sets the program name printed on every record (default "physics"). Called
// once by main() before any thread starts.
void SetProgram(std::string_view program);

// Writes one record. `message` must not contain a newline.
void Write(Level level, std::string_view message);

inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace physics::log

#endif  // PHYSICS_ENGINE_LOG_LOG_H_
