#include "engine/feed/stream_group.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/redis/connection.h"

namespace physics::feed {
namespace {

// Value of `name` in a flat [name, value, name, value, ...] reply.
const redisReply* Field(const redisReply* pairs, std::string_view name) {
  if (pairs == nullptr || pairs->type != REDIS_REPLY_ARRAY) return nullptr;
  for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
    if (redis::ReplyText(pairs->element[i]) == name) return pairs->element[i + 1];
  }
  return nullptr;
}

// A Redis Cluster answer meaning "not here, or not now" (docs/SPEC.md §9).
bool IsRedirection(const absl::Status& s) {
  if (!absl::IsFailedPrecondition(s) && !absl::IsInternal(s)) return false;  // a reply, a pipeline
  for (absl::string_view error : {": MOVED ", ": ASK ", ": TRYAGAIN", ": CLUSTERDOWN"}) {
    if (absl::StrContains(s.message(), error)) return true;
  }
  return false;
}

absl::Status Malformed(std::string_view command) {
  return absl::InternalError(absl::StrCat("unexpected reply to ", std::string(command)));
}

}  // namespace

StreamGroup::StreamGroup(redis::Config config, StreamGroupOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

absl::StatusOr<redis::Reply> StreamGroup::Run(std::span<const std::string_view> argv) {
  if (!connected()) return absl::UnavailableError("not connected");
  absl::StatusOr<redis::Reply> reply = conn_->Command(argv);
  if (!conn_->ok()) conn_.reset();
  if (!reply.ok() && IsRedirection(reply.status())) {
    conn_.reset();
    return absl::UnavailableError(reply.status().message());
  }
  return reply;
}

absl::StatusOr<redis::Reply> StreamGroup::Run(std::initializer_list<std::string_view> argv) {
  return Run(std::span<const std::string_view>(argv.begin(), argv.size()));
}

absl::Status StreamGroup::Connect() {
  absl::StatusOr<redis::Connection> conn =
      options_.open ? options_.open()
                    : redis::Connection::Open(config_, options_.connect_timeout, options_.io_timeout);
  if (!conn.ok()) return conn.status();
  conn_.emplace(*std::move(conn));
  absl::StatusOr<redis::Reply> created =
      Run({"XGROUP", "CREATE", options_.key, options_.group, "0", "MKSTREAM"});
  if (!created.ok() && !absl::StrContains(created.status().message(), "BUSYGROUP")) {
    conn_.reset();
    return created.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamId> StreamGroup::LastDeliveredId() {
  absl::StatusOr<redis::Reply> groups = Run({"XINFO", "GROUPS", options_.key});
  if (!groups.ok()) return groups.status();
  const redisReply* list = groups->get();
  if (list->type != REDIS_REPLY_ARRAY) return Malformed("XINFO GROUPS");
  for (size_t i = 0; i < list->elements; ++i) {
    if (redis::ReplyText(Field(list->element[i], "name")) != options_.group) continue;
    std::optional<StreamId> id = StreamId::Parse(redis::ReplyText(Field(list->element[i], "last-delivered-id")));
    if (!id) return Malformed("XINFO GROUPS");
    return *id;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("group ", options_.group, " of stream ", options_.key, " vanished"));
}

absl::StatusOr<StreamId> StreamGroup::AcknowledgedUntil(bool* nothing_pending) {
  absl::StatusOr<StreamId> delivered = LastDeliveredId();
  if (!delivered.ok()) return delivered;
  // Summary form: [count, oldest id, newest id, [[consumer, count]...]].
  absl::StatusOr<redis::Reply> pending = Run({"XPENDING", options_.key, options_.group});
  if (!pending.ok()) return pending.status();
  const redisReply* r = pending->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return Malformed("XPENDING");
  const bool none = r->element[1]->type != REDIS_REPLY_STRING;
  if (nothing_pending != nullptr) *nothing_pending = none;
  if (none) return *delivered;
  std::optional<StreamId> oldest = StreamId::Parse(redis::ReplyText(r->element[1]));
  if (!oldest) return Malformed("XPENDING");
  return std::min(*delivered, oldest->Previous());
}

absl::StatusOr<bool> StreamGroup::HistoryComplete() {
  absl::StatusOr<redis::Reply> info = Run({"XINFO", "STREAM", options_.key});
  if (!info.ok()) return info.status();
  const redisReply* length = Field(info->get(), "length");
  const redisReply* added = Field(info->get(), "entries-added");
  if (length == nullptr || added == nullptr || length->type != REDIS_REPLY_INTEGER ||
      added->type != REDIS_REPLY_INTEGER) {
    return Malformed("XINFO STREAM");
  }
  return added->integer == length->integer;
}

absl::StatusOr<redis::Reply> StreamGroup::ClaimIdleOfOthers(absl::Duration min_idle, size_t count) {
  char idle_text[24], count_text[24];
  const auto idle_end =
      std::to_chars(idle_text, idle_text + sizeof(idle_text), absl::ToInt64Milliseconds(min_idle)).ptr;
  const auto count_end = std::to_chars(count_text, count_text + sizeof(count_text), count).ptr;
  const std::string_view idle_sv(idle_text, static_cast<size_t>(idle_end - idle_text));
  absl::StatusOr<redis::Reply> listed =
      Run({"XPENDING", options_.key, options_.group, "IDLE", idle_sv, "-", "+",
           std::string_view(count_text, static_cast<size_t>(count_end - count_text))});
  if (!listed.ok()) return listed;
  const redisReply* list = listed->get();
  if (list->type != REDIS_REPLY_ARRAY) return Malformed("XPENDING");
  // [[id, consumer, idle ms, deliveries]...]
  argv_.assign({"XCLAIM", options_.key, options_.group, options_.consumer, idle_sv});
  for (size_t i = 0; i < list->elements; ++i) {
    const redisReply* e = list->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) return Malformed("XPENDING");
    if (redis::ReplyText(e->element[1]) == options_.consumer) continue;
    argv_.push_back(redis::ReplyText(e->element[0]));  // lives in `listed`
  }
  if (argv_.size() == 5) return redis::Reply();  // nothing to claim
  absl::StatusOr<redis::Reply> claimed = Run(argv_);
  if (claimed.ok() && (*claimed)->type != REDIS_REPLY_ARRAY) return Malformed("XCLAIM");
  return claimed;
}

absl::Status StreamGroup::ClaimAllPending(absl::flat_hash_set<StreamId>& pending) {
  std::string cursor = "0-0";
  do {
    absl::StatusOr<redis::Reply> r = Run({"XAUTOCLAIM", options_.key, options_.group,
                                          options_.consumer, "0", cursor, "COUNT", "1000", "JUSTID"});
    if (!r.ok()) return r.status();
    const redisReply* reply = r->get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return Malformed("XAUTOCLAIM");
    }
    cursor.assign(redis::ReplyText(reply->element[0]));
    for (size_t i = 0; i < reply->element[1]->elements; ++i) {
      if (std::optional<StreamId> id = StreamId::Parse(redis::ReplyText(reply->element[1]->element[i]))) {
        pending.insert(*id);
      }
    }
  } while (cursor != "0-0" && !cursor.empty());
  return absl::OkStatus();
}

absl::Status StreamGroup::DropIdleConsumers() {
  absl::StatusOr<redis::Reply> r = Run({"XINFO", "CONSUMERS", options_.key, options_.group});
  if (!r.ok()) return r.status();
  const redisReply* list = r->get();
  if (list->type != REDIS_REPLY_ARRAY) return Malformed("XINFO CONSUMERS");
  for (size_t i = 0; i < list->elements; ++i) {
    const std::string_view name = redis::ReplyText(Field(list->element[i], "name"));
    const redisReply* pending = Field(list->element[i], "pending");
    if (name.empty() || name == options_.consumer || pending == nullptr ||
        pending->type != REDIS_REPLY_INTEGER || pending->integer != 0) {
      continue;
    }
    absl::StatusOr<redis::Reply> deleted =
        Run({"XGROUP", "DELCONSUMER", options_.key, options_.group, name});
    if (!deleted.ok()) return deleted.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<redis::Reply> StreamGroup::Range(StreamId after, StreamId until, size_t count) {
  id_text_.clear();
  id_text_.push_back('(');
  after.AppendTo(id_text_);
  const size_t split = id_text_.size();
  until.AppendTo(id_text_);
  char count_text[24];
  const auto count_end = std::to_chars(count_text, count_text + sizeof(count_text), count).ptr;
  const std::string_view ids(id_text_);
  absl::StatusOr<redis::Reply> r =
      Run({"XRANGE", options_.key, ids.substr(0, split), ids.substr(split), "COUNT",
           std::string_view(count_text, static_cast<size_t>(count_end - count_text))});
  if (r.ok() && (*r)->type != REDIS_REPLY_ARRAY) return Malformed("XRANGE");
  return r;
}

absl::StatusOr<redis::Reply> StreamGroup::Read(size_t count, absl::Duration block,
                                               std::optional<StreamId> own_after) {
  char count_text[24], block_text[24];
  const auto count_end = std::to_chars(count_text, count_text + sizeof(count_text), count).ptr;
  // BLOCK 0 would wait forever: at least 1 ms (none when `block` is not positive).
  const int64_t block_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(block));
  const auto block_end = std::to_chars(block_text, block_text + sizeof(block_text), block_ms).ptr;
  id_text_.clear();
  if (own_after) {
    own_after->AppendTo(id_text_);
  } else {
    id_text_.push_back('>');
  }
  const std::string_view count_sv(count_text, static_cast<size_t>(count_end - count_text));
  const std::string_view block_sv(block_text, static_cast<size_t>(block_end - block_text));
  if (own_after || block <= absl::ZeroDuration()) {
    return Run({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count_sv,
                "STREAMS", options_.key, id_text_});
  }
  return Run({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count_sv,
              "BLOCK", block_sv, "STREAMS", options_.key, id_text_});
}

const redisReply* StreamGroup::Entries(const redis::Reply& reply) {
  // [[key, [[id, [field, value, ...]], ...]]], or nil when BLOCK ran out.
  const redisReply* r = reply.get();
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements == 0) return nullptr;
  const redisReply* stream = r->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2 ||
      stream->element[1]->type != REDIS_REPLY_ARRAY) {
    return nullptr;
  }
  return stream->element[1];
}

absl::Status StreamGroup::Ack(std::span<const StreamId> ids) {
  if (ids.empty()) return absl::OkStatus();
  if (!connected()) return absl::UnavailableError("not connected");
  for (size_t start = 0; start < ids.size(); start += kAckChunk) {
    const std::span<const StreamId> chunk = ids.subspan(start, std::min(kAckChunk, ids.size() - start));
    // Texts first, views second: appending may move id_text_'s buffer.
    id_text_.clear();
    id_ends_.clear();
    for (const StreamId& id : chunk) {
      id.AppendTo(id_text_);
      id_ends_.push_back(id_text_.size());
    }
    argv_.assign({"XACK", options_.key, options_.group});
    size_t begin = 0;
    for (const size_t end : id_ends_) {
      argv_.push_back(std::string_view(id_text_).substr(begin, end - begin));
      begin = end;
    }
    pipeline_.Append(argv_);
  }
  absl::Status s = pipeline_.Execute(*conn_);
  if (!conn_->ok()) conn_.reset();
  if (!s.ok() && IsRedirection(s)) {
    conn_.reset();
    return absl::UnavailableError(s.message());
  }
  return s;
}

absl::Status StreamGroup::DeadLetter(StreamId id, std::span<const std::string> fields,
                                     std::string_view reason) {
  id_text_.clear();
  id.AppendTo(id_text_);
  argv_.assign({"XADD", options_.dlq_key, id_text_});
  for (const std::string& f : fields) argv_.push_back(f);
  argv_.push_back("reason");
  argv_.push_back(reason);
  absl::StatusOr<redis::Reply> r = Run(argv_);
  if (!r.ok() && absl::StrContains(r.status().message(), "equal or smaller")) {
    return absl::OkStatus();  // written before: this is a retry
  }
  return r.status();
}

}  // namespace physics::feed
