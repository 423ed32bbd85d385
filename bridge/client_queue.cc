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

bool ClientQueue::Conflate(const FramePtr& frame, bool live) {
  if (frame->symbol.empty()) return false;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Entry e = pending_[i];
    if (!e.data) continue;
    for (uint32_t k = 0; k < e.count; ++k) {
      const OutFrame& old = e.frame[k];
      if (old.stream != frame->stream || old.symbol != frame->symbol) continue;
      Keep(frame);
      // [before k] [the new frame] [after k], empty parts left out.
      Entry pieces[3];
      size_t n = 0;
      if (k > 0) pieces[n++] = Entry{e.frame, k, e.live, true};
      pieces[n++] = Entry{frame.get(), 1, live, true};
      if (k + 1 < e.count) pieces[n++] = Entry{e.frame + k + 1, e.count - k - 1, e.live, true};
      pending_[i] = pieces[0];
      pending_.insert(pending_.begin() + static_cast<std::ptrdiff_t>(i) + 1, pieces + 1, pieces + n);
      return true;
    }
  }
  return false;
}

ClientQueue::PushResult ClientQueue::PushData(const FramePtr& frame, bool live, bool bounded) {
  if (bounded && pending_data_ >= depth_) {
    // Only a full queue is searched: the linear search costs nothing on the
    // common path and at most `depth` compares for a client that is behind.
    return Conflate(frame, live) ? PushResult::kConflated : PushResult::kDropped;
  }
  Keep(frame);
  pending_.push_back(Entry{frame.get(), 1, live, true});
  ++pending_data_;
  return PushResult::kQueued;
}

void ClientQueue::PushRun(const FramePtr& first, size_t n, bool live) {
  Keep(first);
  pending_.push_back(Entry{first.get(), static_cast<uint32_t>(n), live, true});
  pending_data_ += n;
}

void ClientQueue::PushControl(const FramePtr& frame) {
  Keep(frame);
  pending_.push_back(Entry{frame.get(), 1, false, false});
}

void ClientQueue::DropPendingData() {
  std::erase_if(pending_, [](const Entry& e) { return e.data; });
  pending_data_ = 0;
  if (pending_.empty()) pending_owners_.clear();
}

size_t ClientQueue::pending_frames() const {
  size_t n = 0;
  for (const Entry& e : pending_) n += e.count;
  return n;
}

std::span<iovec> ClientQueue::BeginWrite() {
  // Swapping keeps both vectors' capacity, so steady state allocates nothing.
  std::swap(pending_, inflight_);
  std::swap(pending_owners_, inflight_owners_);
  pending_data_ = 0;
  buffers_.clear();
  for (const Entry& e : inflight_) {
    const std::string_view first = e.frame->bytes();
    const std::string_view last = e.frame[e.count - 1].bytes();
    char* const base = const_cast<char*>(first.data());
    const size_t size = static_cast<size_t>(last.data() + last.size() - first.data());
    // Frames packed back to back (PackFrames) go out as one buffer.
    if (!buffers_.empty() &&
        static_cast<char*>(buffers_.back().iov_base) + buffers_.back().iov_len == base) {
      buffers_.back().iov_len += size;
    } else {
      buffers_.push_back(iovec{base, size});
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
