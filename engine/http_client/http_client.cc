#include "engine/http_client/http_client.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace physics::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Request = bhttp::request<bhttp::empty_body>;

// RFC 6455 §1.3's sample key and the accept value a server must answer with.
constexpr std::string_view kWebSocketKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kWebSocketAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// The status line and header lines of `header`, without the blank line.
template <bool kIsRequest, typename Fields>
std::string Head(const bhttp::header<kIsRequest, Fields>& header) {
  std::ostringstream text;
  text << header;
  std::string head = std::move(text).str();
  while (absl::EndsWith(head, "\r\n")) head.resize(head.size() - 2);
  return head;
}

// One connection's exchange, each step run on a private io_context until it
// completes or the shared deadline passes.
class Exchange {
 public:
  explicit Exchange(absl::Time deadline) : stream_(io_), deadline_(deadline) {}

  absl::Status Connect(const Url& url, int receive_buffer) {
    beast::error_code ec;
    const tcp::resolver::results_type found = tcp::resolver(io_).resolve(url.host, url.port, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", url.host, ": ", ec.message()));
    std::string last_error = "no address";
    for (const tcp::resolver::results_type::value_type& entry : found) {
      const tcp::endpoint endpoint = entry.endpoint();
      tcp::socket& socket = stream_.socket();
      if (socket.is_open()) socket.close(ec);
      socket.open(endpoint.protocol(), ec);
      if (ec) {
        last_error = ec.message();
        continue;
      }
      if (receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
      ec = Run([&](auto handler) { stream_.async_connect(endpoint, std::move(handler)); });
      if (ec == beast::error::timeout) return absl::DeadlineExceededError("timed out connecting");
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        return absl::OkStatus();
      }
      last_error = ec.message();
    }
    return absl::UnavailableError(absl::StrCat("cannot connect to ", url.host, ":", url.port, ": ", last_error));
  }

  absl::Status Send(Request& request) {
    const beast::error_code ec =
        Run([&](auto handler) { bhttp::async_write(stream_, request, std::move(handler)); });
    if (ec == beast::error::timeout) return absl::DeadlineExceededError("timed out sending the request");
    if (ec) return absl::UnavailableError(absl::StrCat("send: ", ec.message()));
    return absl::OkStatus();
  }

  // Reads the whole response (kHeadOnly: only its head) into `parser`.
  template <bool kHeadOnly, typename Parser>
  absl::Status Read(Parser& parser) {
    const beast::error_code ec = Run([&](auto handler) {
      if constexpr (kHeadOnly) {
        bhttp::async_read_header(stream_, buffer_, parser, std::move(handler));
      } else {
        bhttp::async_read(stream_, buffer_, parser, std::move(handler));
      }
    });
    if (ec == beast::error::timeout) return absl::DeadlineExceededError("timed out waiting for the response");
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      return absl::InternalError("the reply is not an HTTP response");
    }
    if (ec) return absl::UnavailableError(absl::StrCat("recv: ", ec.message()));
    return absl::OkStatus();
  }

  // What was read past the parsed message.
  std::string Unparsed() const { return beast::buffers_to_string(buffer_.data()); }

  // Hands the connected socket over, in blocking mode (Asio left it
  // non-blocking).
  int Release() {
    const int fd = stream_.release_socket().release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
  }

 private:
  // Starts one operation with a handler that records its result, and runs
  // it to completion or to the deadline (then the stream cancels it with
  // beast::error::timeout).
  template <typename Start>
  beast::error_code Run(Start start) {
    stream_.expires_after(absl::ToChronoNanoseconds(std::max(deadline_ - absl::Now(), absl::ZeroDuration())));
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  absl::Time deadline_;
};

// The request line and the headers every request carries, plus the caller's.
absl::StatusOr<Request> NewRequest(const Url& url, std::string_view method, std::string_view user_agent,
                                   std::string_view extra_headers) {
  Request request;
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(url.path);
  request.version(11);
  const std::string host = url.host.find(':') == std::string::npos ? url.host : absl::StrCat("[", url.host, "]");
  request.set(bhttp::field::host, absl::StrCat(host, ":", url.port));
  request.set(bhttp::field::user_agent, beast::string_view(user_agent.data(), user_agent.size()));
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(extra_headers.data(), extra_headers.size()), "\r\n", absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad header line \"", line, "\": expected Name: value"));
    }
    const absl::string_view value = absl::StripLeadingAsciiWhitespace(line.substr(colon + 1));
    request.insert(beast::string_view(line.data(), colon), beast::string_view(value.data(), value.size()));
  }
  return request;
}

}  // namespace

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad URL \"", std::string(url), "\": expected http://HOST[:PORT][/PATH], e.g. http://127.0.0.1:8080"));
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad();
  std::string_view rest = url.substr(kScheme.size());
  Url out;
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    out.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad();
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad();
    if (!rest.empty()) out.port = std::string(rest.substr(1));
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    out.port = std::string(rest.substr(colon + 1));
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (host.empty() || out.port.empty() || ec != std::errc() || end != out.port.data() + out.port.size() ||
      port == 0 || port > 65535) {
    return bad();
  }
  out.host = std::string(host);
  return out;
}

absl::StatusOr<Response> Fetch(const Url& url, absl::Duration timeout, const RequestOptions& options) {
  absl::StatusOr<Request> request = NewRequest(url, options.method, options.user_agent, options.extra_headers);
  if (!request.ok()) return request.status();
  request->set(bhttp::field::connection, "close");
  Exchange exchange(absl::Now() + timeout);
  if (absl::Status s = exchange.Connect(url, 0); !s.ok()) return s;
  if (absl::Status s = exchange.Send(*request); !s.ok()) return s;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  if (absl::Status s = exchange.Read</*kHeadOnly=*/false>(parser); !s.ok()) return s;
  bhttp::response<bhttp::string_body>& response = parser.get();
  return Response{static_cast<int>(response.result_int()), Head(response.base()), std::move(response.body())};
}

absl::StatusOr<Response> Get(const Url& url, absl::Duration timeout) { return Fetch(url, timeout); }

absl::StatusOr<WebSocketConnection> UpgradeToWebSocket(const Url& url, absl::Duration timeout,
                                                       const WebSocketOptions& options) {
  absl::StatusOr<Request> request = NewRequest(url, "GET", "physics", options.extra_headers);
  if (!request.ok()) return request.status();
  request->set(bhttp::field::upgrade, "websocket");
  request->set(bhttp::field::connection, "Upgrade");
  request->set(bhttp::field::sec_websocket_key, kWebSocketKey.data());
  request->set(bhttp::field::sec_websocket_version, "13");
  Exchange exchange(absl::Now() + timeout);
  if (absl::Status s = exchange.Connect(url, options.receive_buffer); !s.ok()) return s;
  if (absl::Status s = exchange.Send(*request); !s.ok()) return s;
  bhttp::response_parser<bhttp::empty_body> parser;
  if (absl::Status s = exchange.Read</*kHeadOnly=*/true>(parser); !s.ok()) return s;
  const bhttp::response_header<>& head = parser.get().base();
  if (head.result() != bhttp::status::switching_protocols ||
      head[bhttp::field::sec_websocket_accept] != kWebSocketAccept.data()) {
    return absl::FailedPreconditionError(absl::StrCat("handshake refused: ", Head(head)));
  }
  WebSocketConnection connection;
  connection.pending = exchange.Unparsed();
  connection.fd = exchange.Release();
  return connection;
}

}  // namespace physics::http
