// The benchmarks' machine-readable results (the files behind --json, which
// tools/bench_report.py merges): a JSON object built field by field with the
// schema's JSON writer, so strings are escaped and numbers round-trip, and
// written to a file. Header-only; a JsonObject is a plain value (one owner
// thread).
#ifndef PHYSICS_BENCH_RESULTS_JSON_H_
#define PHYSICS_BENCH_RESULTS_JSON_H_

#include <cstdint>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <string_view>

#include "engine/schema/json_writer.h"

namespace physics::bench {

// {"key":value,...} in the order the fields are added.
class JsonObject {
 public:
  JsonObject& Int(std::string_view key, int64_t value) {
    schema::AppendJsonNumber(Key(key), value);
    return *this;
  }
  JsonObject& Number(std::string_view key, double value) {
    schema::AppendJsonNumber(Key(key), value);
    return *this;
  }
  JsonObject& Bool(std::string_view key, bool value) {
    Key(key).append(value ? "true" : "false");
    return *this;
  }
  JsonObject& String(std::string_view key, std::string_view value) {
    schema::AppendJsonString(Key(key), value);
    return *this;
  }
  JsonObject& Object(std::string_view key, const JsonObject& value) {
    Key(key).append(value.Text());
    return *this;
  }
  JsonObject& Array(std::string_view key, std::span<const JsonObject> values) {
    std::string& out = Key(key);
    out.push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append(values[i].Text());
    }
    out.push_back(']');
    return *this;
  }

  std::string Text() const { return "{" + fields_ + "}"; }

 private:
  // `key` is escaped too: some are data (names of gap classes, operations).
  std::string& Key(std::string_view key) {
    if (!fields_.empty()) fields_.push_back(',');
    schema::AppendJsonString(fields_, key);
    fields_.push_back(':');
    return fields_;
  }

  std::string fields_;
};

// Writes `results` and a newline to `path`, or nothing when `path` is empty
// (no --json). Returns the program's exit code: 0, or 1 after saying on
// stderr, as `program`, that the file could not be written.
inline int WriteResults(std::string_view program, const std::string& path, const JsonObject& results) {
  if (path.empty()) return 0;
  std::ofstream out(path);
  out << results.Text() << "\n";
  out.close();
  if (!out) {
    std::cerr << program << ": cannot write " << path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace physics::bench

#endif  // PHYSICS_BENCH_RESULTS_JSON_H_
