#include "bridge/http_session.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/websocket.hpp"
#include "bridge/auth.h"
#include "bridge/dashboard.h"
#include "bridge/frame.h"
#include "bridge/hub.h"
#include "bridge/server.h"
#include "bridge/ws_session.h"
#include "engine/schema/event_header.h"
#include "engine/schema/json_writer.h"
#include "engine/schema/symbol.h"

namespace physics::bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr uint32_t kMaxRequestBytes = 16 * 1024;
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kStatePrefix = "/api/state/";

std::string JsonError(std::string_view message) {
  std::string out = "{\"error\":";
  schema::AppendJsonString(out, message);
  out.append("}\n");
  return out;
}

}  // namespace

HttpSession::HttpSession(tcp::socket socket, Server& server, Hub& hub)
    : stream_(std::move(socket)), server_(server), hub_(hub), connections_(server.http_connections()) {
  ++*connections_;
}

HttpSession::~HttpSession() { --*connections_; }

void HttpSession::Start() { Read(); }

void HttpSession::Read() {
  parser_.emplace();
  parser_->header_limit(kMaxRequestBytes);
  parser_->body_limit(kMaxRequestBytes);
  stream_.expires_after(kIdleTimeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const beast::error_code& ec, size_t) {
                     self->OnRead(ec);
                   });
}

void HttpSession::OnRead(const beast::error_code& ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  if (ec) {
    Reply(http::status::bad_request, kText, absl::StrCat("bad request: ", ec.message(), "\n"), true);
    return;
  }
  request_ = parser_->release();
  server_.metrics().http_requests.fetch_add(1, std::memory_order_relaxed);
  Route();
}

bool HttpSession::Authorized() const {
  const std::string& expected = server_.options().token;
  if (expected.empty()) return true;
  const auto authorization = request_[http::field::authorization];
  const std::optional<std::string> given =
      RequestToken(std::string_view(authorization.data(), authorization.size()),
                   std::string_view(request_.target().data(), request_.target().size()));
  // Compared even when absent, so a missing token costs the same time.
  return TokenMatches(expected, given.value_or("")) && given.has_value();
}

bool HttpSession::OriginAllowed() const {
  const auto origin = request_.find(http::field::origin);
  if (origin == request_.end()) return bridge::OriginAllowed(server_.options().allowed_origins, std::nullopt);
  return bridge::OriginAllowed(server_.options().allowed_origins,
                               std::string_view(origin->value().data(), origin->value().size()));
}

void HttpSession::Route() {
  std::string_view target(request_.target().data(), request_.target().size());
  target = target.substr(0, target.find('?'));
  // /, /healthz and /metrics stay open (README "Exposing the bridge"); the
  // data is on /ws and /api/*. Origin first: a page from a foreign site gets
  // 403 whether or not it guessed the token.
  if (target == "/ws" && !OriginAllowed()) {
    server_.metrics().origin_rejections.fetch_add(1, std::memory_order_relaxed);
    Reply(http::status::forbidden, kJson,
          JsonError("origin not allowed (see --allowed-origins)"), true);
    return;
  }
  if ((target == "/ws" || target.starts_with("/api/")) && !Authorized()) {
    server_.metrics().auth_failures.fetch_add(1, std::memory_order_relaxed);
    Reply(http::status::unauthorized, kJson,
          JsonError("missing or wrong token: send Authorization: Bearer <token> or ?token=<token>"),
          true);
    return;
  }
  const bool is_get = request_.method() == http::verb::get || request_.method() == http::verb::head;
  const bool known = target == "/" || target == "/index.html" || target == "/ws" ||
                     target == "/healthz" || target == "/metrics" ||
                     (target.size() > kStatePrefix.size() && target.starts_with(kStatePrefix));
  if (!known) {
    Reply(http::status::not_found, kJson, JsonError("not found"));
    return;
  }
  if (!is_get || (target == "/ws" && request_.method() != http::verb::get)) {
    Reply(http::status::method_not_allowed, kJson, JsonError("method not allowed; use GET"));
    return;
  }
  if (target == "/ws") {
    if (!websocket::is_upgrade(request_)) {
      Reply(http::status::upgrade_required, kJson, JsonError("expected a WebSocket upgrade"));
      return;
    }
    UpgradeToWebSocket();
  } else if (target == "/healthz") {
    ServeHealth();
  } else if (target == "/metrics") {
    Reply(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", server_.metrics().Render());
  } else if (target.starts_with(kStatePrefix)) {
    ServeState(target.substr(kStatePrefix.size()));
  } else {
    Reply(http::status::ok, "text/html; charset=utf-8", std::string(DashboardHtml()));
  }
}

void HttpSession::ServeState(std::string_view raw_symbol) {
  std::string symbol;
  FramePtr latest;
  if (schema::NormalizeSymbol(raw_symbol, symbol).ok()) latest = hub_.Latest(symbol);
  std::string state;
  if (latest == nullptr || !schema::StateJsonFromEvent(latest->data(), state).ok()) {
    Reply(http::status::not_found, kJson, JsonError("unknown symbol"));
    return;
  }
  Reply(http::status::ok, kJson, std::move(state));
}

void HttpSession::ServeHealth() {
  // The answer comes on the control thread; the reply is written on ours.
  server_.CheckHealth([self = shared_from_this()](bool ok, std::string reason) {
    asio::post(self->stream_.get_executor(), [self, ok, reason = std::move(reason)] {
      self->ReplyHealth(ok, reason);
    });
  });
}

void HttpSession::ReplyHealth(bool ok, std::string_view reason) {
  {
    std::string body = ok ? "{\"status\":\"ok\"}\n" : "{\"status\":\"unavailable\",\"reason\":";
    if (!ok) {
      schema::AppendJsonString(body, reason);
      body.append("}\n");
    }
    Reply(ok ? http::status::ok : http::status::service_unavailable, kJson, std::move(body));
  }
}

void HttpSession::UpgradeToWebSocket() {
  // The slot is taken now, before the handshake, so upgrades in flight at
  // once (on any shard) cannot overshoot the limit together.
  if (!server_.metrics().TryAddClient(server_.options().max_clients)) {
    server_.metrics().clients_rejected.fetch_add(1, std::memory_order_relaxed);
    Reply(http::status::service_unavailable, kJson,
          JsonError(absl::StrCat("too many clients (--max-clients ", server_.options().max_clients, ")")),
          true);
    return;
  }
  // Beast validates the upgrade and writes the 101; after that the socket is
  // handed to WsSession, which frames and batches its own writes.
  stream_.expires_never();
  auto ws = std::make_shared<websocket::stream<tcp::socket>>(stream_.release_socket());
  ws->set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
    response.set(http::field::server, "physics-bridge");
  }));
  ws->async_accept(request_, [self = shared_from_this(), ws](const beast::error_code& ec) {
    if (ec) {  // Beast answered a bad upgrade with 400; the socket closes with `ws`
      self->server_.metrics().clients.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    std::string leftover = beast::buffers_to_string(self->buffer_.data());
    auto session = std::make_shared<WsSession>(std::move(ws->next_layer()), self->hub_,
                                               std::move(leftover));
    session->Start();
  });
}

void HttpSession::Reply(http::status status, std::string_view content_type, std::string body,
                        bool close) {
  auto response = std::make_shared<http::response<http::string_body>>(status, request_.version());
  response->set(http::field::server, "physics-bridge");
  response->set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  response->set(http::field::cache_control, "no-store");
  if (status == http::status::method_not_allowed) response->set(http::field::allow, "GET, HEAD");
  if (status == http::status::unauthorized) {
    response->set(http::field::www_authenticate, "Bearer realm=\"physics-bridge\"");
  }
  const bool keep_alive = !close && request_.keep_alive();
  response->keep_alive(keep_alive);
  response->body() = std::move(body);
  response->prepare_payload();
  if (request_.method() == http::verb::head) response->body().clear();  // keeps Content-Length
  stream_.expires_after(kIdleTimeout);
  http::async_write(stream_, *response,
                    [self = shared_from_this(), response, keep_alive](const beast::error_code& ec, size_t) {
                      if (ec || !keep_alive) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        return;
                      }
                      self->Read();
                    });
}

}  // namespace physics::bridge
