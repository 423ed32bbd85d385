#include "engine/http_client/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace physics::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A loopback server for one connection: reads the request head, records it,
// answers with `reply` (or nothing, when `reply` is empty, until the client
// goes away) and closes.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(addr);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listener_, 1);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }

  Url url(std::string path = "/") const { return Url{"127.0.0.1", std::to_string(port_), std::move(path)}; }
  // The request head as received. Valid once the client call returned.
  const std::string& request() const { return request_; }

 private:
  void Serve() {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    if (reply_.empty()) {
      while (::recv(fd, buf, sizeof(buf), 0) > 0) {}
    } else {
      ::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    }
    ::close(fd);
  }

  std::string reply_;
  int listener_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(ParseUrl, ReadsHostPortAndPath) {
  absl::StatusOr<Url> url = ParseUrl("http://127.0.0.1:8080/healthz?x=1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->path, "/healthz?x=1");
  url = ParseUrl("http://[::1]");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->path, "/");
}

TEST(ParseUrl, RejectsOtherSchemesAndBadPortsSayingWhatIsAccepted) {
  for (const char* bad : {"https://h", "h:80", "http://", "http://h:0", "http://h:65536", "http://h:8x",
                          "http://[::1", "http://[::1]x"}) {
    absl::StatusOr<Url> url = ParseUrl(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(url.status())) << bad;
    EXPECT_THAT(std::string(url.status().message()), HasSubstr("expected http://HOST[:PORT][/PATH]")) << bad;
  }
}

TEST(Fetch, ReturnsStatusHeadAndBodyByContentLength) {
  OneShotServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nX-Why: lag\r\n\r\nstale");
  absl::StatusOr<Response> r = Get(server.url("/healthz"), absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "stale");
  EXPECT_THAT(r->head, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(r->head, HasSubstr("X-Why: lag"));
  EXPECT_THAT(server.request(), StartsWith("GET /healthz HTTP/1.1\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("Connection: close\r\n"));
}

TEST(Fetch, ReadsABodyWithoutLengthToTheEnd) {
  OneShotServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it");
  absl::StatusOr<Response> r = Get(server.url(), absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "all of it");
}

TEST(Fetch, SendsTheMethodAndExtraHeaders) {
  OneShotServer server("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
  absl::StatusOr<Response> r =
      Fetch(server.url("/metrics"), absl::Seconds(5),
            RequestOptions{.method = "POST", .extra_headers = "Authorization: Bearer t\r\nX-A: 1\r\n"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 405);
  EXPECT_THAT(server.request(), StartsWith("POST /metrics HTTP/1.1\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("Authorization: Bearer t\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("X-A: 1\r\n"));
}

TEST(Fetch, RejectsAHeaderLineWithoutAColon) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      Fetch(Url{"127.0.0.1", "1", "/"}, absl::Seconds(1), RequestOptions{.extra_headers = "nonsense\r\n"})
          .status()));
}

TEST(Fetch, AReplyThatIsNotHttpIsInternal) {
  OneShotServer server("SSH-2.0-OpenSSH\r\n\r\n");
  absl::StatusOr<Response> r = Get(server.url(), absl::Seconds(5));
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "the reply is not an HTTP response");
}

TEST(Fetch, TimesOutWaitingForASilentServer) {
  OneShotServer server("");
  absl::StatusOr<Response> r = Get(server.url(), absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "timed out waiting for the response");
}

TEST(Fetch, AClosedPortIsUnavailableNamingTheAddress) {
  std::string port;
  {
    OneShotServer server("x");  // a port that was free a moment ago
    port = server.url().port;
    (void)Get(server.url(), absl::Seconds(5));
  }
  absl::StatusOr<Response> r = Get(Url{"127.0.0.1", port, "/"}, absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()), StartsWith("cannot connect to 127.0.0.1:" + port + ": "));
}

TEST(UpgradeToWebSocket, HandsOverTheSocketAndTheBytesReadPastTheHandshake) {
  OneShotServer server(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi");
  absl::StatusOr<WebSocketConnection> ws = UpgradeToWebSocket(server.url("/ws?token=t"), absl::Seconds(5));
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ(ws->pending, "\x81\x02hi");
  char byte;
  EXPECT_EQ(::recv(ws->fd, &byte, 1, 0), 0);  // a blocking socket, at the server's EOF
  ::close(ws->fd);
  EXPECT_THAT(server.request(), StartsWith("GET /ws?token=t HTTP/1.1\r\n"));
  EXPECT_THAT(server.request(), HasSubstr("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
}

TEST(UpgradeToWebSocket, ARefusalIsFailedPreconditionWithTheResponseHead) {
  OneShotServer server("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 3\r\n\r\nno\n");
  absl::StatusOr<WebSocketConnection> ws = UpgradeToWebSocket(server.url("/ws"), absl::Seconds(5));
  EXPECT_TRUE(absl::IsFailedPrecondition(ws.status())) << ws.status();
  EXPECT_EQ(ws.status().message(),
            "handshake refused: HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 3");
}

TEST(UpgradeToWebSocket, AWrongAcceptKeyIsARefusal) {
  OneShotServer server("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n");
  EXPECT_TRUE(absl::IsFailedPrecondition(UpgradeToWebSocket(server.url("/ws"), absl::Seconds(5)).status()));
}

}  // namespace
}  // namespace physics::http
