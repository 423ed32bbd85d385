#include "engine/cli/log.h"

#include <unistd.h>

#include <chrono>
#include <string>

#include "engine/schema/timestamp.h"

namespace physics::cli {
namespace {

// Set once by main() before any thread starts; read-only afterwards.
std::string& Program() {
  static std::string program = "physics";
  return program;
}

}  // namespace

void SetLogProgram(std::string_view program) { Program().assign(program); }

void Log(LogLevel level, std::string_view message) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string line;
  line.reserve(64 + message.size());
  schema::AppendIso8601Micros(
      std::chrono::duration_cast<std::chrono::microseconds>(now).count(), line);
  line.push_back(' ');
  line.append(Program());
  line.append(level == LogLevel::kInfo ? " INFO " : level == LogLevel::kWarn ? " WARN " : " ERROR ");
  line.append(message);
  line.push_back('\n');
  // A failed log write has nowhere to be reported.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace physics::cli
