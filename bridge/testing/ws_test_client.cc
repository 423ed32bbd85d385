#include "bridge/testing/ws_test_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/http_client/http_client.h"

namespace physics::bridge::testing {
namespace {

// ReadSome's message for the end of the stream (a reset names recv's error).
constexpr char kEndOfStream[] = "connection closed";

absl::Status SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Appends what arrives before the deadline to `out`: kDeadlineExceeded when
// nothing did, kUnavailable at EOF or on an error.
absl::Status ReadSome(int fd, std::string& out, absl::Time deadline) {
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
  pollfd pfd{fd, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(ms));
  if (ready == 0) return absl::DeadlineExceededError("no data in time");
  if (ready < 0) return absl::InternalError(std::strerror(errno));
  char buf[16384];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n == 0) return absl::UnavailableError(kEndOfStream);
  if (n < 0) return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  out.append(buf, static_cast<size_t>(n));
  return absl::OkStatus();
}

http::Url Loopback(int port, std::string_view target) {
  return http::Url{"127.0.0.1", std::to_string(port), std::string(target)};
}

}  // namespace

absl::StatusOr<WsTestClient> WsTestClient::Connect(int port, int receive_buffer,
                                                   std::string_view target,
                                                   std::string_view extra_headers) {
  absl::StatusOr<http::WebSocketConnection> ws = http::UpgradeToWebSocket(
      Loopback(port, target), absl::Seconds(5),
      http::WebSocketOptions{.receive_buffer = receive_buffer, .extra_headers = extra_headers});
  if (!ws.ok()) return ws.status();
  WsTestClient client(ws->fd);
  client.buffer_ = std::move(ws->pending);
  return client;
}

WsTestClient::WsTestClient(WsTestClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

WsTestClient& WsTestClient::operator=(WsTestClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

WsTestClient::~WsTestClient() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status WsTestClient::SendText(std::string_view text) {
  return SendFrame(Opcode::kText, true, text);
}

absl::Status WsTestClient::SendFrame(Opcode opcode, bool fin, std::string_view payload) {
  std::string frame;
  AppendMaskedFrame(opcode, fin, payload, 0x37fa213d, frame);
  return SendAll(fd_, frame);
}

absl::Status WsTestClient::SendRaw(std::string_view bytes) { return SendAll(fd_, bytes); }

absl::Status WsTestClient::Fill(absl::Time deadline) { return ReadSome(fd_, buffer_, deadline); }

absl::StatusOr<WsTestClient::Frame> WsTestClient::ReadFrame(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (buffer_.size() >= 2) {
      const auto b1 = static_cast<uint8_t>(buffer_[1]);
      if (b1 & 0x80) return absl::InternalError("server sent a masked frame");
      uint64_t length = b1 & 0x7F;
      size_t header = 2;
      if (length == 126 && buffer_.size() >= 4) {
        length = (static_cast<uint64_t>(static_cast<uint8_t>(buffer_[2])) << 8) |
                 static_cast<uint8_t>(buffer_[3]);
        header = 4;
      } else if (length == 127 && buffer_.size() >= 10) {
        length = 0;
        for (int i = 2; i < 10; ++i) length = (length << 8) | static_cast<uint8_t>(buffer_[i]);
        header = 10;
      } else if (length >= 126) {
        header = SIZE_MAX;
      }
      if (header != SIZE_MAX && buffer_.size() >= header + length) {
        Frame frame;
        frame.opcode = static_cast<Opcode>(static_cast<uint8_t>(buffer_[0]) & 0x0F);
        frame.payload = buffer_.substr(header, length);
        buffer_.erase(0, header + length);
        if (frame.opcode == Opcode::kClose && frame.payload.size() >= 2) {
          frame.close_code = static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                                                   static_cast<uint8_t>(frame.payload[1]));
          frame.payload.erase(0, 2);
        }
        return frame;
      }
    }
    if (absl::Status s = Fill(deadline); !s.ok()) return s;
  }
}

absl::StatusOr<std::string> WsTestClient::ReadText(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<Frame> frame = ReadFrame(deadline - absl::Now());
    if (!frame.ok()) return frame.status();
    if (frame->opcode == Opcode::kText) return std::move(frame->payload);
    if (frame->opcode == Opcode::kClose) {
      return absl::UnavailableError(
          absl::StrCat("closed with ", frame->close_code, " ", frame->payload));
    }
  }
}

absl::StatusOr<std::string> WsTestClient::ReadRaw(size_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (buffer_.size() < n) {
    if (absl::Status s = Fill(deadline); !s.ok()) return s;
  }
  std::string bytes = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return bytes;
}

absl::Status WsTestClient::WaitForClose(absl::Duration timeout) {
  if (buffer_.empty()) {
    const absl::Status s = Fill(absl::Now() + timeout);
    if (absl::IsUnavailable(s) && s.message() == kEndOfStream) return absl::OkStatus();
    if (!s.ok()) return s;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("expected the connection to end, got ", buffer_.size(), " more bytes"));
}

absl::StatusOr<HttpResponse> HttpRequest(int port, std::string_view method, std::string_view path,
                                         absl::Duration timeout, std::string_view extra_headers) {
  absl::StatusOr<http::Response> r = http::Fetch(
      Loopback(port, path), timeout,
      http::RequestOptions{.method = method, .extra_headers = extra_headers, .user_agent = "ws_test_client"});
  if (!r.ok()) return r.status();
  return HttpResponse{r->status, std::move(r->head), std::move(r->body)};
}

}  // namespace physics::bridge::testing
