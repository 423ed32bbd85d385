// RESP2 encoding of commands, the bytes Redis reads: used by Pipeline to build a
// tick's writes in one buffer, and by tools that feed `redis-cli --pipe`.
// Thread-safety: pure functions.
//
//   std::string buf;
//   AppendResp(buf, {"SET", "physics:state:SPY", json});
//   // buf == "*3\r\n$3\r\nSET\r\n$17\r\nphysics:state:SPY\r\n$...\r\n...\r\n"
#ifndef PHYSICS_ENGINE_REDIS_RESP_H_
#define PHYSICS_ENGINE_REDIS_RESP_H_

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace physics::redis {

// Appends `argv` as one RESP array of bulk strings (binary safe). Does not
// allocate when `out` already has the capacity. REQUIRES: !argv.empty().
void AppendResp(std::string& out, std::span<const std::string_view> argv);

inline void AppendResp(std::string& out, std::initializer_list<std::string_view> argv) {
  AppendResp(out, std::span<const std::string_view>(argv.begin(), argv.size()));
}

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_RESP_H_
