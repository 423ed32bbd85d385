#include "bridge/client_queue.h"

#include <algorithm>
#include <utility>

namespace physics::bridge {

ClientQueue::ClientQueue(size_t depth) : depth_(std::max<size_t>(depth, 1)) {}

void ClientQueue::Keep(const FramePtr& frame) {
  const auto same_owner = [](const FramePtr& a, const FramePtr& b) {
    return !a.owner_before(b) && !b.owner_before(a);
  };
  if (pending_owners_.empty() || !same_owner(pending_owners_.back(), frame)) {
    pending_owners_.push_back(frame);
  }
}

ClientQueue::PushResult ClientQueue::PushData(const FramePtr& frame, ConflationKey key, bool live,
                                              bool bounded) {
  if (bounded && pending_data_ >= depth_) {
    // Only a full queue is scanned: the linear search costs nothing on the
    // common path and at most `depth` compares for a client that is behind.
    if (key != kNoConflation) {
      for (Entry& e : pending_) {
        if (e.key == key) {
          Keep(frame);
          e.frame = frame.get();
          e.live = live;
          return PushResult::kConflated;
        }
      }
    }
    return PushResult::kDropped;
  }
  Keep(frame);
  pending_.push_back(Entry{frame.get(), key, live, true});
  ++pending_data_;
  return PushResult::kQueued;
}

void ClientQueue::PushControl(const FramePtr& frame) {
  Keep(frame);
  pending_.push_back(Entry{frame.get(), kNoConflation, false, false});
}

void ClientQueue::DropPendingData() {
  std::erase_if(pending_, [](const Entry& e) { return e.data; });
  pending_data_ = 0;
  if (pending_.empty()) pending_owners_.clear();
}

std::span<iovec> ClientQueue::BeginWrite() {
  // Swapping keeps both vectors' capacity, so steady state allocates nothing.
  std::swap(pending_, inflight_);
  std::swap(pending_owners_, inflight_owners_);
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
  inflight_owners_.clear();
  buffers_.clear();
}

}  // namespace physics::bridge
