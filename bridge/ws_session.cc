#include "bridge/ws_session.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/client_request.h"
#include "bridge/hub.h"
#include "engine/log/log.h"

namespace physics::bridge {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kInitialReadBuffer = 1024;
constexpr size_t kMaxFrameHeader = 14;  // 2 + 8 length + 4 mask

const FramePtr& PongReply() {
  static const FramePtr* const pong = new FramePtr(MakeTextFrame("{\"type\":\"pong\"}"));
  return *pong;
}

std::string Describe(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

WsSession::WsSession(tcp::socket socket, Hub& hub, std::string initial_bytes)
    : socket_(std::move(socket)),
      hub_(hub),
      remote_(Describe(socket_)),
      queue_(static_cast<size_t>(hub.options().queue_depth)),
      limiter_(hub.options().max_client_msgs_per_sec),
      subscriptions_(hub.stream_names().size()) {
  read_buffer_.resize(std::max(kInitialReadBuffer, initial_bytes.size()));
  std::memcpy(read_buffer_.data(), initial_bytes.data(), initial_bytes.size());
  read_size_ = initial_bytes.size();
}

void WsSession::Start() {
  hub_.Add(shared_from_this());
  const bool keep_reading = ProcessInput();
  hub_.FlushDirty();
  if (keep_reading) Read();
}

void WsSession::Read() {
  if (read_size_ == read_buffer_.size()) {
    // A frame that fits the limit fits max_frame_bytes + header; the decoder
    // refuses a bigger one from its header, so the buffer never grows past that.
    const size_t limit = static_cast<size_t>(hub_.options().max_frame_bytes) + kMaxFrameHeader;
    read_buffer_.resize(std::min(limit, read_buffer_.size() * 2));
  }
  socket_.async_read_some(
      asio::buffer(read_buffer_.data() + read_size_, read_buffer_.size() - read_size_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->OnRead(ec, n);
      });
}

void WsSession::OnRead(const boost::system::error_code& ec, size_t bytes) {
  if (terminated_) return;
  if (ec) {  // EOF, reset, or shut down by us
    Terminate();
    return;
  }
  read_size_ += bytes;
  const bool keep_reading = ProcessInput();
  hub_.FlushDirty();
  if (keep_reading) Read();
}

bool WsSession::ProcessInput() {
  const size_t max_payload = static_cast<size_t>(hub_.options().max_frame_bytes);
  size_t offset = 0;
  while (reading_ && !terminated_) {
    DecodedFrame frame;
    const DecodeStatus status =
        DecodeClientFrame(read_buffer_.data() + offset, read_size_ - offset, max_payload, frame);
    if (status == DecodeStatus::kIncomplete) break;
    if (status == DecodeStatus::kTooBig) {
      hub_.metrics().CountClientError(ClientError::kOversized);
      Fail(kCloseTooBig, absl::StrCat("frame larger than ", max_payload, " bytes"));
      break;
    }
    if (status == DecodeStatus::kProtocol) {
      hub_.metrics().CountClientError(ClientError::kProtocol);
      Fail(kCloseProtocolError, "protocol error: bad frame header");
      break;
    }
    HandleFrame(frame);
    offset += frame.consumed;
  }
  if (offset > 0) {
    std::memmove(read_buffer_.data(), read_buffer_.data() + offset, read_size_ - offset);
    read_size_ -= offset;
  }
  return reading_ && !terminated_;
}

void WsSession::HandleFrame(const DecodedFrame& frame) {
  const size_t max_payload = static_cast<size_t>(hub_.options().max_frame_bytes);
  switch (frame.opcode) {
    case Opcode::kText:
    case Opcode::kBinary: {
      if (in_fragments_) {
        hub_.metrics().CountClientError(ClientError::kProtocol);
        Fail(kCloseProtocolError, "protocol error: expected a continuation frame");
        return;
      }
      const bool binary = frame.opcode == Opcode::kBinary;
      if (!binary && !AcceptText(frame.payload, /*first=*/true, frame.fin)) return;
      if (!frame.fin) {
        in_fragments_ = true;
        fragments_binary_ = binary;
        fragments_.assign(frame.payload);
      } else {
        HandleMessage(frame.payload, binary);
      }
      return;
    }
    case Opcode::kContinuation:
      if (!in_fragments_) {
        hub_.metrics().CountClientError(ClientError::kProtocol);
        Fail(kCloseProtocolError, "protocol error: unexpected continuation frame");
        return;
      }
      if (fragments_.size() + frame.payload.size() > max_payload) {
        hub_.metrics().CountClientError(ClientError::kOversized);
        Fail(kCloseTooBig, absl::StrCat("message larger than ", max_payload, " bytes"));
        return;
      }
      if (!fragments_binary_ && !AcceptText(frame.payload, /*first=*/false, frame.fin)) return;
      fragments_.append(frame.payload);
      if (frame.fin) {
        in_fragments_ = false;
        HandleMessage(fragments_, fragments_binary_);
        fragments_.clear();
        if (fragments_.capacity() > kInitialReadBuffer) fragments_.shrink_to_fit();
      }
      return;
    case Opcode::kPing:
      if (open_ && Admit()) SendControl(MakePongFrame(frame.payload));
      return;
    case Opcode::kPong:
      return;
    case Opcode::kClose:
      HandleClientClose(frame.payload);
      return;
  }
}

bool WsSession::AcceptText(std::string_view piece, bool first, bool last) {
  bool valid;
  if (first && last) {
    valid = IsValidUtf8(piece);
  } else {
    if (first) text_utf8_.Reset();
    valid = text_utf8_.Feed(piece) && (!last || text_utf8_.AtBoundary());
  }
  if (!valid) {
    hub_.metrics().CountClientError(ClientError::kProtocol);
    Fail(kCloseInvalidPayload, "text message is not UTF-8");
  }
  return valid;
}

bool WsSession::Admit() {
  switch (limiter_.Admit(SteadyNowNs())) {
    case RateLimiter::Verdict::kAllow:
      return true;
    case RateLimiter::Verdict::kReject:
      hub_.metrics().CountClientError(ClientError::kRateLimited);
      SendError(absl::StrCat("rate limit: at most ", hub_.options().max_client_msgs_per_sec,
                             " messages per second; this one was ignored"));
      return false;
    case RateLimiter::Verdict::kRejectQuiet:
      hub_.metrics().CountClientError(ClientError::kRateLimited);
      return false;
    case RateLimiter::Verdict::kFlood:
      hub_.metrics().CountClientError(ClientError::kFlood);
      Fail(kClosePolicyViolation, "message flood: far over the rate limit");
      return false;
  }
  return false;
}

void WsSession::HandleMessage(std::string_view text, bool binary) {
  if (!open_ || !Admit()) return;
  if (binary) {
    hub_.metrics().CountClientError(ClientError::kBinary);
    SendError("binary frames are not supported; send JSON text frames");
    return;
  }
  ClientRequest request;
  if (std::optional<RequestError> error = ParseClientRequest(text, request)) {
    hub_.metrics().CountClientError(error->kind);
    SendError(error->message);
    return;
  }
  HandleRequest(request);
}

void WsSession::HandleRequest(const ClientRequest& request) {
  if (request.type == ClientRequest::Type::kPing) {
    SendControl(PongReply());
    return;
  }
  const std::optional<StreamId> stream = hub_.FindStream(request.channel);
  if (!stream) {
    hub_.metrics().CountClientError(ClientError::kBadRequest);
    std::string known;
    for (const std::string& name : hub_.stream_names()) absl::StrAppend(&known, known.empty() ? "" : ", ", name);
    SendError(absl::StrCat("unknown channel \"", request.channel.substr(0, 64), "\"; expected ", known));
    return;
  }
  Subscription& subscription = subscriptions_[*stream];
  if (request.type == ClientRequest::Type::kUnsubscribe) {
    subscription.active = false;
    SendControl(MakeChannelReplyFrame("unsubscribed", request.channel));
    return;
  }
  SymbolSet symbols;
  if (request.symbols) {
    std::vector<SymbolId> ids;
    ids.reserve(request.symbols->size());
    for (const std::string& symbol : *request.symbols) {
      const SymbolId id = hub_.symbols().Intern(symbol);
      if (id == kNoSymbol) {
        hub_.metrics().CountClientError(ClientError::kBadRequest);
        SendError("too many distinct symbols known to the bridge; subscription not changed");
        return;
      }
      ids.push_back(id);
    }
    symbols.SetOnly(ids);
  }
  subscription.active = true;
  subscription.symbols = std::move(symbols);
  SendControl(MakeChannelReplyFrame("subscribed", request.channel));
  hub_.SendSnapshot(*this, *stream, subscription.symbols, SteadyNowNs());
}

void WsSession::HandleClientClose(std::string_view payload) {
  reading_ = false;
  if (!open_) {  // the answer to our close
    Terminate();
    return;
  }
  const CloseAnswer answer = AnswerClientClose(payload);
  if (!answer.valid) hub_.metrics().CountClientError(ClientError::kProtocol);
  Close(answer.code, answer.reason, 1000);
  end_after_write_ = true;
}

void WsSession::Deliver(const FramePtr& frame, bool live, int64_t now_ns, bool bounded) {
  Enqueue(frame, live, now_ns, bounded);
  hub_.MarkDirty(*this);
}

void WsSession::DeliverAll(std::span<const Hub::Delivery> deliveries, int64_t now_ns) {
  bool any = false;
  for (size_t i = 0; i < deliveries.size();) {
    const Hub::Delivery& d = deliveries[i];
    if (!Wants(d.stream, d.symbol)) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < deliveries.size() && deliveries[end].follows && deliveries[end].live == d.live &&
           Wants(deliveries[end].stream, deliveries[end].symbol)) {
      ++end;
    }
    if (end - i > 1 && queue_.has_room(end - i)) {
      if (!queue_.has_pending()) pending_since_ns_ = now_ns;
      queue_.PushRun(*d.frame, end - i, d.live);
    } else {
      for (size_t k = i; k < end; ++k) Enqueue(*deliveries[k].frame, deliveries[k].live, now_ns, true);
    }
    any = true;
    i = end;
  }
  if (any) hub_.MarkDirty(*this);
}

void WsSession::Enqueue(const FramePtr& frame, bool live, int64_t now_ns, bool bounded) {
  if (!queue_.has_pending()) pending_since_ns_ = now_ns;
  switch (queue_.PushData(frame, live, bounded)) {
    case ClientQueue::PushResult::kQueued:
      break;
    case ClientQueue::PushResult::kConflated:
      hub_.metrics().messages_conflated.fetch_add(1, std::memory_order_relaxed);
      break;
    case ClientQueue::PushResult::kDropped:
      hub_.metrics().messages_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

void WsSession::SendControl(FramePtr frame) {
  if (terminated_) return;
  if (!queue_.has_pending()) pending_since_ns_ = SteadyNowNs();
  queue_.PushControl(std::move(frame));
  hub_.MarkDirty(*this);
}

void WsSession::SendError(std::string_view message) { SendControl(MakeErrorFrame(message)); }

void WsSession::Flush() {
  if (terminated_ || queue_.writing() || !queue_.has_pending()) return;
  writing_since_ns_ = pending_since_ns_;
  unsent_ = queue_.BeginWrite();
  SendUnsent();
}

// Measured (100 clients x 1 000 msg/s on loopback): asio::async_write sends at
// most 64 buffers per sendmsg and completes through the scheduler, so a burst
// of 100 frames took 2 syscalls plus a handler round-trip per client. One
// non-blocking sendmsg of the whole batch (up to IOV_MAX buffers), falling
// back to waiting for writability only when the socket is full, halves the
// kernel work per burst, which is what bounds the latency of the last client.
void WsSession::SendUnsent() {
  while (!unsent_.empty()) {
    msghdr message{};
    message.msg_iov = unsent_.data();
    message.msg_iovlen = std::min<size_t>(unsent_.size(), IOV_MAX);
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        socket_.async_wait(tcp::socket::wait_write,
                           [self = shared_from_this()](const boost::system::error_code& ec) {
                             if (ec) {
                               self->FinishWrite(ec);
                             } else {
                               self->SendUnsent();
                             }
                           });
        return;
      }
      FinishWrite(boost::system::error_code(errno, boost::system::system_category()));
      return;
    }
    // Drops what was written from the front, shortening a partly written buffer.
    auto left = static_cast<size_t>(sent);
    while (left > 0) {
      iovec& front = unsent_.front();
      if (left >= front.iov_len) {
        left -= front.iov_len;
        unsent_ = unsent_.subspan(1);
      } else {
        front.iov_base = static_cast<char*>(front.iov_base) + left;
        front.iov_len -= left;
        left = 0;
      }
    }
  }
  FinishWrite({});
}

void WsSession::FinishWrite(const boost::system::error_code& ec) {
  const int64_t now = SteadyNowNs();
  uint64_t delivered = 0;
  BridgeMetrics& metrics = hub_.metrics();
  unsent_ = {};
  // Frames read from Redis together share received_ns (a run is always one
  // such batch): one observation per run of them.
  int64_t run_received_ns = 0;
  uint64_t run = 0;
  const auto observe_run = [&] {
    if (run > 0) hub_.write_latency().Observe((now - run_received_ns) / 1000, run);
  };
  queue_.EndWrite([&](const ClientQueue::Entry& e) {
    if (!e.data) return;
    delivered += e.count;
    if (!e.live || ec) return;
    if (e.frame->received_ns != run_received_ns) {
      observe_run();
      run_received_ns = e.frame->received_ns;
      run = 0;
    }
    run += e.count;
  });
  observe_run();
  if (ec || terminated_) {
    Terminate();
    return;
  }
  metrics.messages_out.fetch_add(delivered, std::memory_order_relaxed);
  if (!queue_.has_pending()) {
    if (end_after_write_) EndAfterClose();
    return;
  }
  Flush();
}

void WsSession::Fail(uint16_t code, std::string_view reason) {
  reading_ = false;
  Close(code, reason, 1000);
  end_after_write_ = true;
}

// Closing the socket with unread input would send a reset at once and drop
// what is still unsent (RFC 2525 §2.17), possibly the close frame itself; a
// half-close sends everything queued, then the end of the stream.
void WsSession::EndAfterClose() {
  end_after_write_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  DrainUntilEnd();
}

void WsSession::DrainUntilEnd() {
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                            if (self->terminated_) return;
                            if (ec) {  // the client closed too, or the connection failed
                              self->Terminate();
                              return;
                            }
                            self->DrainUntilEnd();
                          });
}

void WsSession::Close(uint16_t code, std::string_view reason, int64_t linger_ms) {
  if (!open_ || terminated_) return;
  open_ = false;
  queue_.DropPendingData();
  SendControl(MakeCloseFramePtr(code, reason));
  close_deadline_ns_ = SteadyNowNs() + linger_ms * 1'000'000;
}

void WsSession::Terminate() {
  if (terminated_) return;
  terminated_ = true;
  open_ = false;
  reading_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  hub_.Remove(this);
}

void WsSession::Sweep(int64_t now_ns, int64_t slow_ms) {
  if (terminated_) return;
  if (close_deadline_ns_ != 0 && now_ns >= close_deadline_ns_) {
    Terminate();
    return;
  }
  if (open_ && queue_.writing() && now_ns - writing_since_ns_ > slow_ms * 1'000'000) {
    hub_.metrics().slow_client_closes.fetch_add(1, std::memory_order_relaxed);
    log::Warn(absl::StrCat("closing slow client ", remote_, ": more than ", slow_ms,
                              " ms behind (", queue_.pending_frames(), " frames queued)"));
    Close(kClosePolicyViolation, absl::StrCat("slow client: more than ", slow_ms, " ms behind"),
          250);
  }
}

}  // namespace physics::bridge
