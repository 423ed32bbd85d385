// Reads of a test Redis's contents for integration-test checks: strings,
// hashes, key lists, and the flat field/value arrays Redis answers with
// (HGETALL, XINFO, stream entries) as maps. Each read opens its own
// connection (RedisServer::Run), so a failed read looks like an absent value.
// Thread-safe as far as the RedisServer is (its reads may run on any thread).
#ifndef PHYSICS_TESTS_SUPPORT_REDIS_READS_H_
#define PHYSICS_TESTS_SUPPORT_REDIS_READS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/redis/connection.h"
#include "tests/support/redis_server.h"

namespace physics::testing {

// GET `key`: "" when absent or unreadable.
std::string Get(const RedisServer& server, std::string_view key);
// HGETALL `key`: empty when absent or unreadable.
std::map<std::string, std::string> HGetAll(const RedisServer& server, std::string_view key);
// KEYS `pattern`, in Redis's order: empty when none match or on error.
std::vector<std::string> Keys(const RedisServer& server, std::string_view pattern);
// A numeric field of INFO ("blocked_clients", "total_error_replies"), or -1.
int64_t InfoNumber(const RedisServer& server, std::string_view field);
// The value of `field` in an INFO-style text ("field:value\r\n" lines: INFO,
// CLUSTER INFO), or "".
std::string InfoField(std::string_view info, std::string_view field);
// The "seq" of the state the engine stored at [prefix]physics:state:<symbol>,
// 0 when there is none (or it has no seq).
int64_t StateSeq(const RedisServer& server, std::string_view symbol, std::string_view prefix = "");

// A flat [field, value, field, value, ...] array as a map; integer values as
// decimal text, nil ones as "". Anything else than an array gives {}.
std::map<std::string, std::string> FieldMap(const redisReply& pairs);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_REDIS_READS_H_
