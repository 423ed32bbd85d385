#include "bridge/hub.h"

#include <utility>

#include "bridge/ws_session.h"

namespace physics::bridge {
namespace {

// Bounds the symbol table (clients' filters intern the symbols they name).
constexpr size_t kMaxSymbols = 100'000;

}  // namespace

Hub::Hub(std::vector<std::string> stream_names, const BridgeOptions& options,
         BridgeMetrics& metrics, LatencyHistogram& write_latency)
    : stream_names_(std::move(stream_names)),
      options_(options),
      metrics_(metrics),
      write_latency_(write_latency),
      symbols_(kMaxSymbols) {}

void Hub::PublishBatches(std::span<const std::shared_ptr<const Batch>> batches) {
  const int64_t now = SteadyNowNs();
  deliveries_.clear();
  for (const std::shared_ptr<const Batch>& batch : batches) {
    for (size_t i = 0; i < batch->frames.size(); ++i) {
      const FramePtr& frame = batch->frames[i];
      const SymbolId symbol = symbols_.Intern(frame->symbol);
      if (frame->stream == kStateStream && symbol != kNoSymbol) {
        if (symbol >= latest_.size()) latest_.resize(symbol + 1);
        latest_[symbol] = frame;
      }
      const bool follows = i > 0 && batch->packed[i].get() == batch->packed[i - 1].get() + 1;
      deliveries_.push_back(Delivery{&batch->packed[i], frame->stream, symbol,
                                     frame->received_ns != 0, follows});
    }
  }
  // DeliverAll only queues; sessions never leave sessions_ during this loop.
  for (const std::shared_ptr<WsSession>& session : sessions_) session->DeliverAll(deliveries_, now);
  FlushDirty();
}

void Hub::Add(std::shared_ptr<WsSession> session) {
  session->hub_index = sessions_.size();
  sessions_.push_back(std::move(session));
  client_count_.store(static_cast<int64_t>(sessions_.size()), std::memory_order_relaxed);
  metrics_.clients_accepted.fetch_add(1, std::memory_order_relaxed);
}

void Hub::Remove(WsSession* session) {
  const size_t index = session->hub_index;
  if (index >= sessions_.size() || sessions_[index].get() != session) return;
  // Keeps the session alive until this function returns (the caller may be it).
  std::shared_ptr<WsSession> keep = std::move(sessions_[index]);
  if (index + 1 != sessions_.size()) {
    sessions_[index] = std::move(sessions_.back());
    sessions_[index]->hub_index = index;
  }
  sessions_.pop_back();
  client_count_.store(static_cast<int64_t>(sessions_.size()), std::memory_order_relaxed);
  metrics_.clients.fetch_sub(1, std::memory_order_relaxed);
}

void Hub::MarkDirty(WsSession& session) {
  if (session.dirty) return;
  session.dirty = true;
  dirty_.push_back(session.shared_from_this());
}

void Hub::FlushDirty() {
  scratch_.swap(dirty_);
  for (const std::shared_ptr<WsSession>& session : scratch_) {
    session->dirty = false;
    session->Flush();
  }
  scratch_.clear();
}

std::optional<StreamId> Hub::FindStream(std::string_view channel) const {
  for (size_t i = 0; i < stream_names_.size(); ++i) {
    if (stream_names_[i] == channel) return static_cast<StreamId>(i);
  }
  return std::nullopt;
}

void Hub::SendSnapshot(WsSession& session, StreamId stream, const SymbolSet& filter,
                       int64_t now_ns) {
  if (stream != kStateStream) return;  // only state_update keeps a latest message
  for (SymbolId id = 0; id < latest_.size(); ++id) {
    if (latest_[id] && filter.Contains(id)) {
      session.Deliver(latest_[id], /*live=*/false, now_ns, /*bounded=*/false);
    }
  }
}

FramePtr Hub::Latest(std::string_view symbol) const {
  const SymbolId id = symbols_.Find(symbol);
  return id < latest_.size() ? latest_[id] : nullptr;
}

void Hub::CloseAll(uint16_t code, std::string_view reason) {
  // Backwards: a session that terminates is swapped with the last one.
  for (size_t i = sessions_.size(); i-- > 0;) sessions_[i]->Close(code, reason, 500);
  FlushDirty();
}

void Hub::Sweep(int64_t now_ns) {
  for (size_t i = sessions_.size(); i-- > 0;) {
    if (i < sessions_.size()) sessions_[i]->Sweep(now_ns, options_.slow_client_ms);
  }
  FlushDirty();
}

}  // namespace physics::bridge
