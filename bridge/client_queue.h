// One client's outgoing frames: a bounded queue of shared frames with
// per-symbol conflation, and the in-flight batch that is being written in one
// gather write. Every byte sent to a client (data, replies, pongs, close)
// passes through it, so there is never more than one write per socket.
// Not thread-safe: owned by the client's session on the io thread.
//
//   queue.PushRun(packed[0], packed.size(), live);  // a batch, when it has room
//   queue.PushData(frame, live);                    // one message
//   if (!queue.writing() && queue.has_pending())
//     sendmsg(fd, queue.BeginWrite() ...);           // one gather write
//   queue.EndWrite([](const ClientQueue::Entry& e) { ... });   // on completion
#ifndef PHYSICS_BRIDGE_CLIENT_QUEUE_H_
#define PHYSICS_BRIDGE_CLIENT_QUEUE_H_

#include <cstddef>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "bridge/frame.h"

namespace physics::bridge {

class ClientQueue {
 public:
  // A frame, or a run of frames of one PackFrames batch: frame[0..count) are
  // consecutive in its array and their bytes lie back to back.
  struct Entry {
    const OutFrame* frame = nullptr;  // kept alive by the queue (see Keep)
    uint32_t count = 1;
    bool live = false;  // messages just read from Redis (their latency is measured)
    bool data = false;  // counts against the depth and may be dropped on close
  };

  enum class PushResult { kQueued, kConflated, kDropped };

  // `depth`: the most data frames waiting (not yet handed to the socket).
  // Memory grows with use up to that bound and is then reused.
  explicit ClientQueue(size_t depth);
  ClientQueue(const ClientQueue&) = delete;
  ClientQueue& operator=(const ClientQueue&) = delete;

  // Queues a data frame. When `depth` data frames already wait, an undelivered
  // frame of the same stream and symbol is replaced in place (kConflated;
  // frames naming no symbol are never replaced); with none to replace, the
  // new frame is not queued (kDropped). bounded == false queues it regardless
  // (a snapshot must arrive whole even when it has more symbols than `depth`;
  // later frames then conflate with it).
  PushResult PushData(const FramePtr& frame, bool live, bool bounded = true);
  // Whether `n` more data frames fit without conflating or dropping.
  bool has_room(size_t n) const { return pending_data_ + n <= depth_; }
  // Queues packed frames first[0..n) (consecutive in one PackFrames batch) as
  // one entry: with 1 000 clients, per-frame entries were a tenth of the
  // bridge's CPU. REQUIRES: has_room(n).
  void PushRun(const FramePtr& first, size_t n, bool live);
  // Queues a reply or control frame; never conflated or dropped (the session
  // rate-limits what causes them).
  void PushControl(const FramePtr& frame);
  // Forgets waiting data frames (the client is being closed).
  void DropPendingData();

  bool has_pending() const { return !pending_.empty(); }
  bool full() const { return pending_data_ >= depth_; }
  bool writing() const { return !inflight_.empty(); }
  // Frames waiting (data and control).
  size_t pending_frames() const;

  // Moves every waiting frame into the in-flight batch and returns its
  // buffers (frames adjacent in memory, as PackFrames lays them out, share
  // one), valid until EndWrite(); the caller may advance them in place
  // after a partial write. REQUIRES: !writing() && has_pending().
  std::span<iovec> BeginWrite();
  // The batch has been written (or abandoned): visits each of its entries,
  // then releases them. REQUIRES: writing().
  void EndWrite(absl::FunctionRef<void(const Entry&)> visit);

 private:
  // Holds `frame`'s owner until the frames queued so far are written. The
  // frames of a packed batch (PackFrames) share one owner, so a run of them
  // costs one reference, not one per frame: measured, the per-frame atomic
  // increments on the owner all io threads share were 12 % of the bridge's
  // CPU with 1 000 clients. A frame conflated away keeps its owner held
  // until the next write completes; a client stuck that long is closed after
  // --slow-client-ms, so what it holds is bounded by what arrived meanwhile
  // (the same batches for every stuck client).
  void Keep(const FramePtr& frame);
  // Replaces the waiting frame of `frame`'s stream and symbol, splitting the
  // run that holds it; false when there is none.
  bool Conflate(const FramePtr& frame, bool live);

  size_t depth_;
  size_t pending_data_ = 0;  // data frames in pending_
  std::vector<Entry> pending_;
  std::vector<Entry> inflight_;
  std::vector<FramePtr> pending_owners_;   // keep pending_'s frames alive
  std::vector<FramePtr> inflight_owners_;  // keep inflight_'s frames alive
  std::vector<iovec> buffers_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_CLIENT_QUEUE_H_
