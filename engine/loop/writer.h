// What the tick loop writes through (docs/SPEC.md §2, §9): StateWriter for one
// Redis server (redis://, unix://, redis-sentinel://), ClusterWriter for a
// Redis Cluster (redis-cluster://). RunLoop streams each loop tick's states
// while they are computed (Stream), then writes the rest (Flush).
// Not thread-safe: a writer is owned by the tick thread.
#ifndef PHYSICS_ENGINE_LOOP_WRITER_H_
#define PHYSICS_ENGINE_LOOP_WRITER_H_

#include "absl/status/status.h"
#include "engine/loop/symbol_book.h"

namespace physics::loop {

// Redis refused our credentials (kUnauthenticated, kPermissionDenied):
// retrying cannot fix it.
inline bool IsAuthError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnauthenticated ||
         s.code() == absl::StatusCode::kPermissionDenied;
}

// A connect error retrying cannot fix: refused credentials, a redis:// URL
// reaching a cluster node, a db the server lacks (kInvalidArgument from
// Connection::Open). The engine stops with exit code 2 (docs/SPEC.md §7)
// rather than retry forever.
inline bool IsConfigurationError(const absl::Status& s) {
  return IsAuthError(s) || absl::IsInvalidArgument(s);
}

class Writer {
 public:
  virtual ~Writer() = default;

  // Writes every unwritten symbol of `book` and marks the written ones, with
  // the heartbeat when it is due. Returns OK when everything was written (or
  // there was nothing to write); kUnavailable when some or all of it could not
  // be (the unwritten symbols stay in the book for the next call);
  // kUnauthenticated / kPermissionDenied when Redis refuses our credentials,
  // which retrying cannot fix. A StateWriter with WriterOptions::late_replies
  // returns once the commands are sent and the previous Flush's replies
  // read, marking the symbols written then; a write found failed later puts
  // them back (the next Flush or Settle).
  virtual absl::Status Flush(SymbolBook& book) = 0;
  // Reads every reply a Flush left owed (WriterOptions::late_replies) and
  // returns the symbols whose write turned out to fail to the book's
  // unwritten list. Returns like Flush; OK at once when nothing is owed.
  virtual absl::Status Settle(SymbolBook& /*book*/) { return absl::OkStatus(); }
  // Starts sending the states of the symbols that became unwritten since the
  // last call, while the caller computes the rest of the loop tick. Flush()
  // must follow before the book's unwritten list changes otherwise.
  virtual void Stream(const SymbolBook& book) = 0;
  // Deletes the heartbeat key (an orderly stop). Best effort.
  virtual void RemoveHeartbeat() = 0;
  virtual bool connected() const = 0;

  // Leader lease (docs/SPEC.md §9), StateWriter only: a writer without one
  // always leads.
  virtual bool TryLead(SymbolBook* /*book*/) { return true; }
  virtual bool ConfirmLease() { return true; }
  virtual void ReleaseLease() {}
  virtual bool leading() const { return true; }
  virtual bool lease_mode() const { return false; }
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_WRITER_H_
