#include "bridge/testing/ws_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace physics::bridge::testing {
namespace {

absl::StatusOr<int> ConnectTcp(int port, int receive_buffer) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  if (receive_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", std::strerror(e)));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

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

// Reads into `out` until `done(out)` or EOF or the deadline.
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

}  // namespace

absl::StatusOr<WsTestClient> WsTestClient::Connect(int port, int receive_buffer,
                                                   std::string_view target,
                                                   std::string_view extra_headers) {
  absl::StatusOr<int> fd = ConnectTcp(port, receive_buffer);
  if (!fd.ok()) return fd.status();
  WsTestClient client(*fd);
  const std::string request = absl::StrCat(
      "GET ", std::string(target), " HTTP/1.1\r\nHost: 127.0.0.1:", port,
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
      std::string(extra_headers), "\r\n");
  if (absl::Status s = SendAll(*fd, request); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  size_t end;
  while ((end = client.buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (absl::Status s = ReadSome(*fd, client.buffer_, deadline); !s.ok()) return s;
  }
  if (client.buffer_.compare(0, 12, "HTTP/1.1 101") != 0 ||
      client.buffer_.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("handshake refused: ", client.buffer_.substr(0, end)));
  }
  client.buffer_.erase(0, end + 4);
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
  absl::StatusOr<int> fd = ConnectTcp(port, 0);
  if (!fd.ok()) return fd.status();
  const std::string request = absl::StrCat(std::string(method), " ", std::string(path),
                                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                                           std::string(extra_headers), "\r\n");
  std::string response;
  absl::Status s = SendAll(*fd, request);
  const absl::Time deadline = absl::Now() + timeout;
  while (s.ok()) s = ReadSome(*fd, response, deadline);
  ::close(*fd);
  if (!absl::IsUnavailable(s)) return s;  // EOF ends the response
  const size_t end = response.find("\r\n\r\n");
  if (response.size() < 12 || end == std::string::npos) {
    return absl::InternalError(absl::StrCat("bad HTTP response: ", response));
  }
  HttpResponse out;
  out.status = std::atoi(response.substr(9, 3).c_str());
  out.headers = response.substr(0, end);
  out.body = response.substr(end + 4);
  return out;
}

}  // namespace physics::bridge::testing
