#include "tests/support/redis_reads.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace physics::testing {
namespace {

std::string Text(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(r.integer);
    default:
      return "";
  }
}

}  // namespace

std::string Get(const RedisServer& server, std::string_view key) { return server.String({"GET", key}); }

std::map<std::string, std::string> HGetAll(const RedisServer& server, std::string_view key) {
  absl::StatusOr<redis::Reply> r = server.Run({"HGETALL", key});
  return r.ok() ? FieldMap(**r) : std::map<std::string, std::string>{};
}

std::vector<std::string> Keys(const RedisServer& server, std::string_view pattern) {
  std::vector<std::string> keys;
  absl::StatusOr<redis::Reply> r = server.Run({"KEYS", pattern});
  if (!r.ok() || (*r)->type != REDIS_REPLY_ARRAY) return keys;
  for (size_t i = 0; i < (*r)->elements; ++i) keys.push_back(Text(*(*r)->element[i]));
  return keys;
}

std::string InfoField(std::string_view info, std::string_view field) {
  const std::string key = absl::StrCat("\n", std::string(field), ":");
  const std::string text = absl::StrCat("\n", std::string(info));
  const size_t at = text.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  return text.substr(begin, text.find_first_of("\r\n", begin) - begin);
}

int64_t InfoNumber(const RedisServer& server, std::string_view field) {
  int64_t n = -1;
  return absl::SimpleAtoi(InfoField(server.String({"INFO", "everything"}), field), &n) ? n : -1;
}

int64_t StateSeq(const RedisServer& server, std::string_view symbol, std::string_view prefix) {
  const std::string json =
      Get(server, absl::StrCat(std::string(prefix), "physics:state:", std::string(symbol)));
  simdjson::dom::parser parser;
  int64_t seq = 0;
  return json.empty() || parser.parse(json)["seq"].get(seq) ? 0 : seq;
}

std::map<std::string, std::string> FieldMap(const redisReply& pairs) {
  std::map<std::string, std::string> out;
  if (pairs.type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < pairs.elements; i += 2) {
    out[Text(*pairs.element[i])] = Text(*pairs.element[i + 1]);
  }
  return out;
}

}  // namespace physics::testing
