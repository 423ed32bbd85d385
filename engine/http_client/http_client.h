// A small blocking HTTP/1.1 client on Boost.Beast, for the programs that talk
// to the bridge as a client: physics-status's /healthz probe, the bridge's
// integration tests and the end-to-end benchmark. One request per connection
// ("Connection: close"), plain http:// only, and the whole exchange (resolve,
// connect, send, read) is bounded by one deadline. UpgradeToWebSocket does
// the opening handshake and hands the connected socket over, for callers that
// read and write frames themselves. Thread-safe: no shared state (each call
// has its own io_context and socket).
#ifndef PHYSICS_ENGINE_HTTP_CLIENT_HTTP_CLIENT_H_
#define PHYSICS_ENGINE_HTTP_CLIENT_HTTP_CLIENT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace physics::http {

struct Url {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::string port = "80";
  std::string path = "/";  // the request target, query included
};

// Parses "http://HOST[:PORT][/PATH]" (IPv6 as [ADDR]). kInvalidArgument
// saying what is accepted.
absl::StatusOr<Url> ParseUrl(std::string_view url);

struct Response {
  int status = 0;
  std::string head;  // status line and header lines as received, without the blank line
  std::string body;
};

struct RequestOptions {
  std::string_view method = "GET";
  // Added to the request as they are: "Name: value\r\n" lines.
  std::string_view extra_headers = "";
  std::string_view user_agent = "physics";
};

// Sends one request with "Connection: close" and reads the whole response
// (by Content-Length, chunked, or to EOF). kUnavailable when the host cannot
// be resolved or reached, or the connection breaks; kDeadlineExceeded when
// the exchange takes longer than `timeout`; kInternal for a reply that is not
// HTTP; kInvalidArgument for an extra header line without a colon.
absl::StatusOr<Response> Fetch(const Url& url, absl::Duration timeout, const RequestOptions& options = {});

// Fetch with GET and no extra headers.
absl::StatusOr<Response> Get(const Url& url, absl::Duration timeout);

struct WebSocketOptions {
  // > 0: SO_RCVBUF set before connecting (a small window makes a client
  // that never reads stall the server's writes quickly).
  int receive_buffer = 0;
  std::string_view extra_headers = "";  // as in RequestOptions
};

// A connection after a successful opening handshake. The caller owns `fd`
// (blocking, TCP_NODELAY) and closes it.
struct WebSocketConnection {
  int fd = -1;
  // Bytes the server sent after its 101 response that were read with it:
  // the start of the first frames.
  std::string pending;
};

// Connects to `url` and performs the WebSocket opening handshake (RFC 6455
// §4.1, with the RFC's sample key: this client is for tests and benchmarks,
// not for proxies). Errors as for Fetch; a refused handshake (any status but
// 101, or a wrong Sec-WebSocket-Accept) is kFailedPrecondition
// "handshake refused: <the response's head>".
absl::StatusOr<WebSocketConnection> UpgradeToWebSocket(const Url& url, absl::Duration timeout,
                                                       const WebSocketOptions& options = {});

}  // namespace physics::http

#endif  // PHYSICS_ENGINE_HTTP_CLIENT_HTTP_CLIENT_H_
