#include "bridge/server.h"

#include <chrono>
#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "bridge/http_session.h"
#include "bridge/ws_codec.h"
#include "engine/cli/log.h"
#include "engine/schema/state_message.h"

namespace physics::bridge {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kSweepPeriod = std::chrono::milliseconds(100);
constexpr auto kHealthTimeout = std::chrono::seconds(1);
// Connections beyond --max-clients accepted for HTTP (health checks,
// metrics scrapes) before new ones are refused outright.
constexpr int64_t kHttpHeadroom = 64;
// A client socket's kernel send buffer. Bounded (rather than auto-tuned up to
// megabytes) so a client that stops reading stalls its writes, and is caught
// by --slow-client-ms, within seconds instead of after megabytes of backlog.
constexpr int kSendBufferBytes = 256 * 1024;

std::vector<std::string> StreamNames(const BridgeOptions& options) {
  std::vector<std::string> names = {std::string(schema::kStateUpdateChannel)};
  names.insert(names.end(), options.channels.begin(), options.channels.end());
  return names;
}

}  // namespace

Server::Server(asio::io_context& io, BridgeOptions options, redis::Config config,
               std::string instance_id)
    : io_(io),
      options_(std::move(options)),
      hub_(StreamNames(options_), options_, metrics_),
      subscriber_(std::move(config), SubscriberOptions{options_.channels, std::move(instance_id)},
                  *this, metrics_),
      acceptor_(io),
      sweep_timer_(io),
      accept_retry_timer_(io),
      stop_timer_(io),
      signals_(io, SIGINT, SIGTERM) {}

Server::~Server() { subscriber_.Stop(); }

absl::Status Server::Listen() {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.listen.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen host \"", options_.listen.host, "\" is not an IP address"));
  }
  const tcp::endpoint endpoint(address, options_.listen.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen.host, ":",
                                               options_.listen.port, ": ", ec.message()));
  }
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  const std::string host = address.is_v6() ? absl::StrCat("[", address.to_string(), "]")
                                           : address.to_string();
  cli::LogInfo(absl::StrCat("listening on http://", host, ":", bound.port(), "/"));
  return absl::OkStatus();
}

void Server::Run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) Shutdown();
  });
  subscriber_.Start();
  Accept();
  ScheduleSweep();
  io_.run();
  subscriber_.Stop();
}

void Server::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::OnAccept(const boost::system::error_code& ec, tcp::socket socket) {
  if (shutting_down_ || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors (or a transient error): wait a little rather than
    // spin on a listening socket that stays readable.
    cli::LogWarn(absl::StrCat("accept failed: ", ec.message()));
    accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e) Accept();
    });
    return;
  }
  if (*http_connections_ + static_cast<int64_t>(hub_.size()) >= options_.max_clients + kHttpHeadroom) {
    metrics_.clients_rejected.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.set_option(asio::socket_base::send_buffer_size(kSendBufferBytes), ignored);
    std::make_shared<HttpSession>(std::move(socket), *this)->Start();
  }
  Accept();
}

void Server::ScheduleSweep() {
  sweep_timer_.expires_after(kSweepPeriod);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    hub_.Sweep(SteadyNowNs());
    ScheduleSweep();
  });
}

void Server::CheckHealth(HealthCallback done) {
  if (std::string reason = subscriber_.DownReason(); !reason.empty()) {
    done(false, std::move(reason));
    return;
  }
  const uint64_t id = ++next_health_id_;
  auto timer = std::make_unique<asio::steady_timer>(io_, kHealthTimeout);
  timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (ec) return;
    std::string reason = subscriber_.DownReason();
    FinishHealth(id, false,
                 reason.empty() ? "canary not delivered through Redis pub/sub within 1 s"
                                : absl::StrCat("canary not delivered within 1 s: ", reason));
  });
  pending_health_.emplace(id, PendingHealth{std::move(done), std::move(timer)});
  subscriber_.RequestCanary(id);
}

void Server::FinishHealth(uint64_t id, bool ok, std::string reason) {
  auto it = pending_health_.find(id);
  if (it == pending_health_.end()) return;
  HealthCallback done = std::move(it->second.done);
  pending_health_.erase(it);  // cancels the timer
  done(ok, std::move(reason));
}

void Server::OnFrames(std::vector<FramePtr> frames) {
  asio::post(io_, [this, frames = std::move(frames)] { hub_.PublishBatch(frames); });
}

void Server::OnCanary(uint64_t id) {
  asio::post(io_, [this, id] { FinishHealth(id, true, ""); });
}

void Server::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  cli::LogInfo(absl::StrCat("shutting down: closing ", hub_.size(), " clients"));
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  sweep_timer_.cancel();
  subscriber_.RequestStop();
  hub_.CloseAll(kCloseGoingAway, "going away: physics-bridge is shutting down");
  WaitForClientsThenStop(SteadyNowNs() + 500'000'000);
}

void Server::WaitForClientsThenStop(int64_t deadline_ns) {
  const int64_t now = SteadyNowNs();
  hub_.Sweep(now);
  if (hub_.size() == 0 || now >= deadline_ns) {
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait([this, deadline_ns](const boost::system::error_code& ec) {
    if (!ec) WaitForClientsThenStop(deadline_ns);
  });
}

}  // namespace physics::bridge
