// One HTTP connection: parses requests with Boost.Beast and serves GET /,
// /api/state/{SYM}, /healthz and /metrics (docs/SPEC.md §6), 404 for other paths and
// 405 for other methods; on GET /ws it performs the WebSocket handshake with
// Beast and hands the socket to a WsSession. With --token, /ws and /api/*
// answer 401 without the token; with --allowed-origins, an upgrade from
// another Origin gets 403 (see auth.h).
// Not thread-safe: lives on one shard's io thread (the one its socket is bound
// to), kept alive by its pending operations.
#ifndef PHYSICS_BRIDGE_HTTP_SESSION_H_
#define PHYSICS_BRIDGE_HTTP_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http.hpp"

namespace physics::bridge {

class Hub;
class Server;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `hub`: the shard whose io_context `socket` is bound to.
  HttpSession(boost::asio::ip::tcp::socket socket, Server& server, Hub& hub);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void Start();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  void Read();
  void OnRead(const boost::beast::error_code& ec);
  void Route();
  // --token: the request carries the right one (always true without --token).
  bool Authorized() const;
  // --allowed-origins: the request's Origin, if any, is allowed.
  bool OriginAllowed() const;
  void ServeState(std::string_view symbol);
  void ServeHealth();
  void ReplyHealth(bool ok, std::string_view reason);
  void UpgradeToWebSocket();
  // Sends a response; keeps the connection for the next request unless the
  // client asked to close (or `close` is set).
  void Reply(boost::beast::http::status status, std::string_view content_type, std::string body,
             bool close = false);

  boost::beast::tcp_stream stream_;
  Server& server_;
  Hub& hub_;
  std::shared_ptr<std::atomic<int64_t>> connections_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Request request_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_HTTP_SESSION_H_
