#include "engine/log/log.h"

#include <unistd.h>

#include <string>

#include "engine/schema/timestamp.h"

namespace physics::log {
namespace {

// Set once by main() before any thread starts; read-only afterwards.
std::string& Program() {
  static std::string program = "physics";
  return program;
}

}  // namespace

void SetProgram(std::string_view program) { Program().assign(program); }

void Write(Level level, std::string_view message) {
  std::string line;
  line.reserve(64 + message.size());
  schema::AppendIso8601Micros(schema::NowEpochMicros(), line);
  line.push_back(' ');
  line.append(Program());
  line.append(level == Level::kInfo ? " INFO " : level == Level::kWarn ? " WARN " : " ERROR ");
  line.append(message);
  line.push_back('\n');
  // A failed log write has nowhere to be reported.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace physics::log
