// One WebSocket client after the handshake: reads and answers its requests
// (docs/SPEC.md §6), holds its subscriptions, and writes its queue to the raw TCP
// socket in gather writes (one sendmsg per batch). Frames are written by hand
// rather than through beast::websocket::stream because that sends one message
// per async_write (one syscall per message per client); server frames are
// unmasked, so each message's frame bytes are built once and shared by every
// recipient.
// All writes (data, replies, pongs, close) go through the one ClientQueue, so
// a socket never has two writes in flight.
// Not thread-safe: lives on its shard's io thread (its socket is bound to that
// thread's io_context); kept alive by the hub and by its own pending operations.
#ifndef PHYSICS_BRIDGE_WS_SESSION_H_
#define PHYSICS_BRIDGE_WS_SESSION_H_

#include <cstdint>
#include <sys/uio.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "bridge/client_queue.h"
#include "bridge/frame.h"
#include "bridge/hub.h"
#include "bridge/rate_limiter.h"
#include "bridge/symbol_table.h"
#include "bridge/ws_codec.h"

namespace physics::bridge {

struct ClientRequest;

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  // `initial_bytes`: what the client sent after its handshake request and
  // was already read with it.
  WsSession(boost::asio::ip::tcp::socket socket, Hub& hub, std::string initial_bytes);
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Registers with the hub and starts reading.
  void Start();

  // Whether a message of `stream` about `symbol` is for this client.
  bool Wants(StreamId stream, SymbolId symbol) const {
    return open_ && stream < subscriptions_.size() && subscriptions_[stream].active &&
           subscriptions_[stream].symbols.Contains(symbol);
  }
  // Queues a data frame (see ClientQueue::PushData) and marks the session
  // dirty. `now_ns` dates the queue when it was empty.
  // bounded: see ClientQueue::PushData (false for snapshots).
  void Deliver(const FramePtr& frame, bool live, int64_t now_ns, bool bounded = true);
  // Deliver() of each message this session Wants(), in order; consecutive
  // frames of one packed batch go in as one run when the queue has room.
  void DeliverAll(std::span<const Hub::Delivery> deliveries, int64_t now_ns);
  // Starts a write of everything queued, unless one is in flight.
  void Flush();

  // Sends a close frame with `code`/`reason` after dropping queued data, then
  // ends the connection once the client answers or `linger_ms` passes.
  void Close(uint16_t code, std::string_view reason, int64_t linger_ms = 1000);
  // Ends the connection now (no close frame). Idempotent.
  void Terminate();
  // Periodic check: closes the session when its oldest unwritten frame is
  // older than slow_ms, and terminates it when a close has lingered too long.
  void Sweep(int64_t now_ns, int64_t slow_ms);

  size_t hub_index = 0;   // position in the hub's session list
  bool dirty = false;     // in the hub's dirty list

 private:
  struct Subscription {
    bool active = false;
    SymbolSet symbols;
  };

  void Read();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  // Decodes and handles every complete frame in the read buffer; false when
  // the session stopped reading (closed).
  bool ProcessInput();
  void HandleFrame(const DecodedFrame& frame);
  // Checks one piece of a text message (the whole message when `first` and
  // `last`) is UTF-8 so far; when not, fails the connection with 1007
  // (RFC 6455 §8.1) and returns false.
  bool AcceptText(std::string_view piece, bool first, bool last);
  // One complete message (text already checked to be UTF-8); binary ones are
  // refused with an error frame.
  void HandleMessage(std::string_view text, bool binary);
  void HandleRequest(const ClientRequest& request);
  // Answers a client's close frame (see AnswerClientClose: its code echoed, or
  // 1002/1007 for a bad one) and ends the connection once that is written.
  void HandleClientClose(std::string_view payload);
  // Deliver() without marking the session dirty.
  void Enqueue(const FramePtr& frame, bool live, int64_t now_ns, bool bounded);
  void SendControl(FramePtr frame);
  // Applies the rate limit to one incoming message; false: refused.
  bool Admit();
  void SendError(std::string_view message);
  // Writes the in-flight batch; completes synchronously when the socket
  // takes it all, else waits for writability and continues.
  void SendUnsent();
  // The batch is written (or failed): metrics, then the next batch.
  void FinishWrite(const boost::system::error_code& ec);
  // Stops reading and closes with `code` after an input error.
  void Fail(uint16_t code, std::string_view reason);
  // Ends the connection once our last close frame is written (RFC 6455
  // §7.1.1: the server closes the TCP connection first): half-closes it, then
  // reads and drops what the client still sends until it closes its side;
  // Sweep ends it when that takes past the close deadline.
  void EndAfterClose();
  void DrainUntilEnd();

  boost::asio::ip::tcp::socket socket_;
  Hub& hub_;
  std::string remote_;  // "ip:port" for logs
  ClientQueue queue_;
  std::span<iovec> unsent_;    // the part of the in-flight batch not yet written
  RateLimiter limiter_;
  std::vector<Subscription> subscriptions_;  // by StreamId

  std::vector<char> read_buffer_;
  size_t read_size_ = 0;       // bytes in read_buffer_
  std::string fragments_;      // a fragmented message being assembled
  bool in_fragments_ = false;
  bool fragments_binary_ = false;
  Utf8Validator text_utf8_;    // the fragmented text message, checked as it arrives

  bool open_ = true;           // false once a close is under way: no data, no requests
  bool reading_ = true;        // false after a fatal input error
  bool end_after_write_ = false;  // EndAfterClose() once the queue is written
  bool terminated_ = false;
  int64_t pending_since_ns_ = 0;   // when the queue last went from empty to non-empty
  int64_t writing_since_ns_ = 0;   // pending_since_ns_ of the batch in flight
  int64_t close_deadline_ns_ = 0;
  int64_t flush_ns_ = 0;  // 0: no close under way
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_WS_SESSION_H_
