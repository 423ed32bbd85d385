#include "engine/redis/pipeline.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include <hiredis/sds.h>  // C linkage ensured by connection.h (via pipeline.h)

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "engine/redis/error_reply.h"
#include "engine/redis/resp.h"

namespace physics::redis {
namespace {

// Installs reply functions and privdata on a hiredis reader for one scope and
// restores the previous ones afterwards.
class ScopedReaderFunctions {
 public:
  ScopedReaderFunctions(redisReader* reader, redisReplyObjectFunctions* fn, void* privdata,
                        size_t min_buffer_room)
      : reader_(reader),
        saved_fn_(reader->fn),
        saved_privdata_(reader->privdata),
        saved_maxbuf_(reader->maxbuf) {
    reader_->fn = fn;
    reader_->privdata = privdata;
    // maxbuf 0: keep the read buffer between feeds instead of freeing and
    // re-allocating it, so a steady-state batch does not allocate.
    reader_->maxbuf = 0;
    // Room for a full read chunk plus what the reader keeps of earlier ones, so
    // that growth does not depend on how the replies happened to arrive.
    if (sdsavail(reader_->buf) < min_buffer_room) {
      if (sds grown = sdsMakeRoomFor(reader_->buf, min_buffer_room); grown != nullptr) {
        reader_->buf = grown;
      }
    }
  }
  ScopedReaderFunctions(const ScopedReaderFunctions&) = delete;
  ScopedReaderFunctions& operator=(const ScopedReaderFunctions&) = delete;
  ~ScopedReaderFunctions() {
    // After an I/O error mid-reply the reader may still point at one of our
    // placeholder objects; the restored freeObject must never see it.
    reader_->reply = nullptr;
    reader_->fn = saved_fn_;
    reader_->privdata = saved_privdata_;
    reader_->maxbuf = saved_maxbuf_;
  }

 private:
  redisReader* reader_;
  redisReplyObjectFunctions* saved_fn_;
  void* saved_privdata_;
  size_t saved_maxbuf_;
};

}  // namespace

void Pipeline::Tally::Reset() {
  replies = 0;
  errors = 0;
  nulls = 0;
  current_has_error = false;
  has_first_error = false;
  has_demoted_error = false;
  first_error_index = 0;
  first_error_len = 0;
}

void Pipeline::Tally::NoteError(std::string_view text) {
  if (!current_has_error && errors_out != nullptr) {
    ReplyError& e = errors_out->emplace_back();
    e.reply = replies;
    e.len = static_cast<uint8_t>(std::min(text.size(), ReplyError::kMaxText));
    std::memcpy(e.text.data(), text.data(), e.len);
  }
  current_has_error = true;
  if (!has_demoted_error && IsDemotedMasterError(text)) {
    has_demoted_error = true;
    demoted_error_len = std::min(text.size(), demoted_error.size());
    std::memcpy(demoted_error.data(), text.data(), demoted_error_len);
  }
  if (!has_first_error) {
    has_first_error = true;
    first_error_index = replies;
    first_error_len = std::min(text.size(), first_error.size());
    std::memcpy(first_error.data(), text.data(), first_error_len);
  }
}

void Pipeline::Tally::EndReply() {
  if (current_has_error) ++errors;
  current_has_error = false;
  ++replies;
}

// The reader only needs a non-null object per element; the tally itself serves.
void* Pipeline::CountString(const redisReadTask* task, char* str, size_t len) {
  auto* tally = static_cast<Tally*>(task->privdata);
  if (task->type == REDIS_REPLY_ERROR) tally->NoteError(std::string_view(str, len));
  return tally;
}
void* Pipeline::CountArray(const redisReadTask* task, int /*elements*/) { return task->privdata; }
void* Pipeline::CountInteger(const redisReadTask* task, long long /*value*/) {
  return task->privdata;
}
void* Pipeline::CountNil(const redisReadTask* task) {
  if (task->parent == nullptr) ++static_cast<Tally*>(task->privdata)->nulls;
  return task->privdata;
}
void Pipeline::IgnoreFree(void* /*obj*/) {}

void Pipeline::Append(std::initializer_list<std::string_view> argv) {
  Append(std::span<const std::string_view>(argv.begin(), argv.size()));
}

void Pipeline::Append(std::span<const std::string_view> argv) {
  AppendResp(buffer_, argv);
  ++count_;
}

void Pipeline::AppendEncoded(std::string_view resp, size_t commands) {
  buffer_.append(resp);
  count_ += commands;
}

void Pipeline::Clear() {
  buffer_.clear();
  count_ = 0;
  sent_ = 0;
}

void Pipeline::Reset() {
  Clear();
  owed_ = 0;
}

absl::Status Pipeline::SendNow(Connection& conn) {
  if (!conn.ok()) return conn.NotUsable();
  if (sent_ == buffer_.size()) return absl::OkStatus();
  const ssize_t n = send(conn.raw()->fd, buffer_.data() + sent_, buffer_.size() - sent_,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0) {
    sent_ += static_cast<size_t>(n);
  } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    return conn.MarkBroken(absl::StrCat("write: ", std::strerror(errno)));
  }
  if (sent_ == buffer_.size()) {
    // Everything is in the kernel: start over at the front, so a tick's
    // commands reuse a buffer the size of one send (in cache) rather than
    // growing one the size of the whole tick (about 1 MB at 1 000 symbols).
    buffer_.clear();
    sent_ = 0;
  }
  return absl::OkStatus();
}

absl::Status Pipeline::Execute(Connection& conn, Replies replies) {
  absl::Cleanup clear = [this] { Clear(); };
  tally_.Reset();
  tally_.errors_out = errors_out_;
  if (errors_out_ != nullptr) errors_out_->clear();
  if (empty() && owed_ == 0) return absl::OkStatus();
  // The replies owed (earlier batches) come first; kEarlier leaves this
  // batch's owed instead.
  const size_t to_read = replies == Replies::kAll ? owed_ + count_ : owed_;
  const size_t left_owed = replies == Replies::kAll ? 0 : count_;
  owed_ = 0;  // stays 0 when the exchange fails: the connection is broken then
  if (!conn.ok()) return conn.NotUsable();

  {
    ScopedReaderFunctions scoped(conn.raw()->reader, &counting_functions_, &tally_,
                                 2 * Connection::kReadChunkBytes);
    absl::Status io = conn.Exchange(
        std::string_view(buffer_).substr(sent_), to_read, [this](void*) { tally_.EndReply(); }, conn.io_timeout(),
        Connection::OnTimeout::kBreak);
    if (!io.ok()) return io;
  }
  if (tally_.errors == 0 || !tally_.has_demoted_error) owed_ = left_owed;
  if (tally_.errors == 0) return absl::OkStatus();
  if (tally_.has_demoted_error) {
    return conn.MarkDemoted(std::string_view(tally_.demoted_error.data(), tally_.demoted_error_len));
  }
  return absl::InternalError(absl::StrCat(
      "Redis rejected ", tally_.errors, " of ", to_read, " pipelined commands; first (command #",
      tally_.first_error_index, "): ",
      absl::string_view(tally_.first_error.data(), tally_.first_error_len)));
}

}  // namespace physics::redis
