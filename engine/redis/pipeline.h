// A batch of Redis commands sent in one round trip: the engine appends a tick's
// SET/HSET/EXPIRE/PUBLISH for every updated symbol, then Execute() writes them
// and checks every reply (docs/SPEC.md §2). The RESP buffer is reused, so a steady-state
// tick allocates nothing here.
// Not thread-safe: owned by the thread that owns the Connection.
//
//   Pipeline p;                                    // one per writer, reused
//   p.Append({"SET", state_key, json});
//   p.Append({"PUBLISH", channel, event});
//   absl::Status s = p.Execute(conn);              // p is empty afterwards
//   if (absl::IsUnavailable(s)) { drop conn; reconnect with Backoff; }
#ifndef PHYSICS_ENGINE_REDIS_PIPELINE_H_
#define PHYSICS_ENGINE_REDIS_PIPELINE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/redis/connection.h"

namespace physics::redis {

class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  Pipeline(Pipeline&&) = default;
  Pipeline& operator=(Pipeline&&) = default;

  // RESP-encodes one command into the buffer. No allocation once the buffer
  // has grown to the size of a typical batch. REQUIRES: !argv.empty().
  void Append(std::initializer_list<std::string_view> argv);
  void Append(std::span<const std::string_view> argv);
  // Appends `commands` commands already RESP-encoded in `resp` (e.g. a unit
  // of a ClusterPipeline, encoded once and resent after a redirection).
  // REQUIRES: resp holds exactly `commands` complete commands.
  void AppendEncoded(std::string_view resp, size_t commands);

  // One reply that held an error (its first error, an EXEC array's nested one
  // included), truncated to kMaxText bytes: enough for a redirection
  // ("MOVED 16383 host:port") and the start of any other error.
  struct ReplyError {
    static constexpr size_t kMaxText = 120;
    size_t reply = 0;  // index of the reply (= of the command) in the batch
    uint8_t len = 0;
    std::array<char, kMaxText> text{};
    std::string_view view() const { return std::string_view(text.data(), len); }
  };
  // From the next Execute() on, each reply that holds an error is listed in
  // *errors (cleared by each Execute(), in reply order); nullptr stops that.
  // Allocates only when errors happen and the vector must grow.
  void RecordErrors(std::vector<ReplyError>* errors) { errors_out_ = errors; }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Sends as much of the not-yet-sent commands as the socket takes now,
  // without waiting, so Redis works on them while the caller prepares more;
  // Execute() sends the rest and reads every reply. Returns kUnavailable on an
  // I/O error (the connection is then broken). Cheap to call often.
  absl::Status SendNow(Connection& conn);

  // The encoded commands not yet sent (all of them when SendNow() was not
  // called), e.g. for `redis-cli --pipe`.
  std::string_view buffer() const { return buffer_; }
  // Drops the commands and keeps the buffer's capacity. Replies owed by an
  // earlier Execute(kEarlier) stay owed: the connection still sends them.
  void Clear();
  // Clear() and forget the owed replies: the connection they were owed on is
  // being dropped.
  void Reset();

  // Writes the whole buffer and reads exactly size() replies, counting error
  // replies without building a redisReply for each (the context's reader gets
  // counting redisReplyObjectFunctions for the duration and its own back
  // afterwards). An error nested in an array reply (EXEC) counts as an error.
  // Writes and reads are interleaved (see Connection::Exchange), so batches of
  // any size (40 000 commands, several MB) neither deadlock nor need chunking.
  // Returns:
  //   OK               every reply is a non-error;
  //   kUnavailable     I/O error, EOF or timeout (io_timeout without progress):
  //                    the connection is broken, drop it and reconnect;
  //   kInternal        "Redis rejected K of N pipelined commands; first (command
  //                    #i): <error text>"; all replies were consumed, so the
  //                    connection stays usable;
  //   kUnavailable     also when any reply is READONLY (the master was
  //                    demoted): the connection is then broken, so the owner
  //                    reconnects and rewrites (error_reply.h).
  // The pipeline is empty afterwards in every case. An empty pipeline is OK
  // without I/O.
  //
  // With Replies::kEarlier it sends every command but reads only the replies
  // owed by the previous Execute(kEarlier) (every reply of its batch); this
  // batch's replies are owed() until the next Execute, which reads them
  // first, so the caller works while Redis executes them (the engine's next
  // loop tick). Reading whole earlier batches only (never what merely
  // arrived) keeps the reader between replies when Execute returns. Error
  // replies and indices then refer to the replies read by this call.
  // REQUIRES: no replies are outstanding on `conn` beyond owed().
  enum class Replies { kAll, kEarlier };
  absl::Status Execute(Connection& conn, Replies replies = Replies::kAll);
  // Replies of sent commands not read yet (only after Execute(kEarlier)).
  size_t owed() const { return owed_; }

  // Top-level null replies in the last Execute(): in a pipeline of writes,
  // each is an EXEC aborted by a WATCHed key (the engine's lease fence).
  size_t null_replies() const { return tally_.nulls; }
  // Complete replies the last Execute() read: all of them after OK or
  // kInternal; after kUnavailable, the replies before the break (their
  // commands ran; the rest may or may not have).
  size_t replies_read() const { return tally_.replies; }
  // True when SendNow() (or Execute()) has written every appended byte.
  bool fully_sent() const { return sent_ == buffer_.size(); }

 private:
  // Error replies seen while reading one batch; the reader hands it to the
  // counting functions as privdata. Fixed-size so that counting never allocates.
  struct Tally {
    void Reset();
    void NoteError(std::string_view text);
    void EndReply();

    size_t replies = 0;
    size_t errors = 0;
    size_t nulls = 0;  // top-level null replies
    bool current_has_error = false;
    bool has_first_error = false;
    size_t first_error_index = 0;  // index of the reply holding the first error
    size_t first_error_len = 0;    // truncated to first_error.size()
    std::array<char, 256> first_error{};
    bool has_demoted_error = false;  // a READONLY reply: the server is a replica now
    size_t demoted_error_len = 0;
    std::array<char, 128> demoted_error{};
    std::vector<ReplyError>* errors_out = nullptr;  // see RecordErrors
  };

  static void* CountString(const redisReadTask* task, char* str, size_t len);
  static void* CountArray(const redisReadTask* task, int elements);
  static void* CountInteger(const redisReadTask* task, long long value);
  static void* CountNil(const redisReadTask* task);
  static void IgnoreFree(void* obj);

  std::string buffer_;
  size_t count_ = 0;
  size_t sent_ = 0;  // bytes of buffer_ already written by SendNow
  size_t owed_ = 0;  // replies of an earlier batch not read yet
  Tally tally_;
  std::vector<ReplyError>* errors_out_ = nullptr;
  // hiredis wants a mutable table; it is only read, and only during Execute().
  redisReplyObjectFunctions counting_functions_ = {&CountString, &CountArray, &CountInteger,
                                                   &CountNil, &IgnoreFree};
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_PIPELINE_H_
