// One io thread's view of the world (a shard): its WebSocket sessions, its
// copy of the latest message per symbol (snapshots, /api/state), and the
// fan-out of each message to every matching session of the shard. A message
// is read once, its frame shared by all recipients in every shard, and each
// session's queued frames are flushed together once per PublishBatches call.
// Not thread-safe: each Hub is owned by one io thread (which is what makes the
// chat-multi lock unnecessary: a shard's sessions are only touched on its
// thread). Only client_count() may be read from other threads.
#ifndef PHYSICS_BRIDGE_HUB_H_
#define PHYSICS_BRIDGE_HUB_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/frame.h"
#include "bridge/metrics.h"
#include "bridge/options.h"
#include "bridge/symbol_table.h"

namespace physics::bridge {

class WsSession;

class Hub {
 public:
  // stream_names[i] is the channel clients name to subscribe to stream i.
  // `write_latency`: this shard's histogram (one writer per histogram).
  Hub(std::vector<std::string> stream_names, const BridgeOptions& options, BridgeMetrics& metrics,
      LatencyHistogram& write_latency);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Messages that arrived together: `frames` as built, and `packed`, the same
  // frames laid back to back in one buffer (PackFrames), or `frames` again.
  struct Batch {
    std::vector<FramePtr> frames;
    std::vector<FramePtr> packed;
  };

  // One message as offered to the sessions: the frame they queue (a packed
  // one) and what decides who wants it.
  struct Delivery {
    const FramePtr* frame;
    StreamId stream;
    SymbolId symbol;
    bool live;
    // The frame comes right after the previous delivery's in the same packed
    // batch (PackFrames lays a batch's frames out as one array), so a session
    // that wants both can queue them as one run.
    bool follows;
  };

  // Fans out batches in order (sessions queue the packed frames, the latest
  // per symbol keeps the originals), then flushes every session that got
  // something (one gather write each). Session by session: each session takes
  // every message of the batches while its queue is in cache (measured with
  // 1 000 clients: message by message, each message visited every session's
  // queue in turn).
  void PublishBatches(std::span<const std::shared_ptr<const Batch>> batches);

  // The session's slot in metrics().clients was taken at its upgrade
  // (TryAddClient); Remove gives it back.
  void Add(std::shared_ptr<WsSession> session);
  void Remove(WsSession* session);
  size_t size() const { return sessions_.size(); }
  // size() for other threads (the acceptor picking the least-loaded shard).
  int64_t client_count() const { return client_count_.load(std::memory_order_relaxed); }

  // Asks for `session`'s queue to be written at the end of the current
  // handler (see FlushDirty).
  void MarkDirty(WsSession& session);
  // Starts the writes of every session marked dirty. Called after a batch and
  // after a client request has been handled.
  void FlushDirty();

  // The stream clients call `channel`, if any.
  std::optional<StreamId> FindStream(std::string_view channel) const;
  const std::vector<std::string>& stream_names() const { return stream_names_; }
  SymbolTable& symbols() { return symbols_; }

  // Queues on `session` the latest message of every symbol of `stream` that
  // `filter` matches.
  void SendSnapshot(WsSession& session, StreamId stream, const SymbolSet& filter, int64_t now_ns);
  // The latest state_update message for `symbol`, or null.
  FramePtr Latest(std::string_view symbol) const;

  // Closes every session with `code` (e.g. 1001 on shutdown).
  void CloseAll(uint16_t code, std::string_view reason);
  // Closes sessions that are too far behind and ends those whose close has
  // timed out. Called periodically.
  void Sweep(int64_t now_ns);

  const BridgeOptions& options() const { return options_; }
  BridgeMetrics& metrics() { return metrics_; }
  LatencyHistogram& write_latency() { return write_latency_; }

 private:
  const std::vector<std::string> stream_names_;
  const BridgeOptions& options_;
  BridgeMetrics& metrics_;
  LatencyHistogram& write_latency_;
  std::atomic<int64_t> client_count_{0};
  // Per shard rather than one table under a mutex: the frames are shared, so
  // a copy costs a pointer per symbol, and no io thread ever waits for another.
  SymbolTable symbols_;
  std::vector<FramePtr> latest_;  // by SymbolId, state_update only
  std::vector<std::shared_ptr<WsSession>> sessions_;
  std::vector<std::shared_ptr<WsSession>> dirty_;
  std::vector<std::shared_ptr<WsSession>> scratch_;  // reused by FlushDirty and Sweep
  std::vector<Delivery> deliveries_;                 // reused by PublishBatches
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_HUB_H_
