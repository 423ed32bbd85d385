#include "engine/redis/key_scan.h"

#include "absl/strings/str_cat.h"

namespace physics::redis {

absl::Status ScanKeys(Connection& conn, std::string_view pattern,
                      absl::FunctionRef<absl::Status(std::span<const std::string> keys)> on_page) {
  const std::string count = std::to_string(kScanPage);
  std::string cursor = "0";
  std::vector<std::string> keys;
  do {
    absl::StatusOr<Reply> scan = conn.Command({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
    if (!scan.ok()) return scan.status();
    const redisReply* r = scan->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || ReplyText(r->element[0]).empty() ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("unexpected SCAN reply");
    }
    cursor.assign(ReplyText(r->element[0]));
    const redisReply* page = r->element[1];
    keys.clear();
    for (size_t i = 0; i < page->elements; ++i) keys.emplace_back(ReplyText(page->element[i]));
    if (keys.empty()) continue;
    if (absl::Status s = on_page(keys); !s.ok()) return s;
  } while (cursor != "0");
  return absl::OkStatus();
}

absl::StatusOr<Reply> MGet(Connection& conn, std::span<const std::string> keys) {
  std::vector<std::string_view> argv;
  argv.reserve(keys.size() + 1);
  argv.push_back("MGET");
  argv.insert(argv.end(), keys.begin(), keys.end());
  absl::StatusOr<Reply> reply = conn.Command(argv);
  if (reply.ok() && ((*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements != keys.size())) {
    return absl::InternalError("unexpected MGET reply");
  }
  return reply;
}

absl::StatusOr<std::vector<Reply>> PerKey(Connection& conn, std::string_view command,
                                                 std::span<const std::string> keys) {
  redisContext* c = conn.raw();
  if (!conn.ok()) return absl::UnavailableError(absl::StrCat("Redis ", conn.endpoint(), ": connection is broken"));
  for (const std::string& key : keys) {
    const char* argv[2] = {command.data(), key.data()};
    const size_t lens[2] = {command.size(), key.size()};
    if (redisAppendCommandArgv(c, 2, argv, lens) != REDIS_OK) {
      return absl::UnavailableError(absl::StrCat("Redis ", conn.endpoint(), ": ", c->errstr));
    }
  }
  std::vector<Reply> replies;
  replies.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) {
      return absl::UnavailableError(absl::StrCat("Redis ", conn.endpoint(), ": ", c->errstr));
    }
    replies.emplace_back(static_cast<redisReply*>(reply));
  }
  return replies;
}

}  // namespace physics::redis
