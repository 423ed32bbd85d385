#include "bridge/client_queue.h"

#include <algorithm>
#include <utility>

namespace physics::bridge {

ClientQueue::ClientQueue(size_t depth) : depth_(std::max<size_t>(depth, 1)) {}

ClientQueue::PushResult ClientQueue::PushData(FramePtr frame, ConflationKey key, bool live,
                                              bool bounded) {
  if (bounded && pending_data_ >= depth_) {
    // Only a full queue is scanned: the linear search costs nothing on the
    // common path and at most `depth` compares for a client that is behind.
    if (key != kNoConflation) {
      for (Entry& e : pending_) {
        if (e.key == key) {
          e.frame = std::move(frame);
          e.live = live;
          return PushResult::kConflated;
        }
      }
    }
    return PushResult::kDropped;
  }
  pending_.push_back(Entry{std::move(frame), key, live, true});
  ++pending_data_;
  return PushResult::kQueued;
}

void ClientQueue::PushControl(FramePtr frame) {
  pending_.push_back(Entry{std::move(frame), kNoConflation, false, false});
}

void ClientQueue::DropPendingData() {
  std::erase_if(pending_, [](const Entry& e) { return e.data; });
  pending_data_ = 0;
}

std::span<iovec> ClientQueue::BeginWrite() {
  // Swapping keeps both vectors' capacity, so steady state allocates nothing.
  std::swap(pending_, inflight_);
  pending_data_ = 0;
  buffers_.clear();
  for (const Entry& e : inflight_) {
    const std::string_view bytes = e.frame->bytes();
    char* const base = const_cast<char*>(bytes.data());
    // Frames packed back to back (PackFrames) go out as one buffer.
    if (!buffers_.empty() &&
        static_cast<char*>(buffers_.back().iov_base) + buffers_.back().iov_len == base) {
      buffers_.back().iov_len += bytes.size();
    } else {
      buffers_.push_back(iovec{base, bytes.size()});
    }
  }
  return buffers_;
}

void ClientQueue::EndWrite(absl::FunctionRef<void(const Entry&)> visit) {
  for (const Entry& e : inflight_) visit(e);
  inflight_.clear();
  buffers_.clear();
}

}  // namespace physics::bridge
