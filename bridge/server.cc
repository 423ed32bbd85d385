#include "bridge/server.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "bridge/http_session.h"
#include "bridge/ws_codec.h"
#include "engine/log/log.h"
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

Server::Shard::Shard(size_t index, asio::io_context& io, std::vector<std::string> stream_names,
                     const BridgeOptions& options, BridgeMetrics& metrics)
    : index(index),
      io(io),
      hub(std::move(stream_names), options, metrics, metrics.write_latency[index]),
      sweep_timer(io),
      stop_timer(io) {}

Server::Server(BridgeOptions options, redis::Config config, std::string instance_id)
    : options_(std::move(options)),
      subscriber_(MakeRedisFeed(std::move(config),
                                SubscriberOptions{options_.channels, std::move(instance_id),
                                                  static_cast<int>(options_.partitions)},
                                *this, metrics_)),
      acceptor_(io_),
      accept_retry_timer_(io_),
      signals_(io_, SIGINT, SIGTERM) {
  const size_t count = static_cast<size_t>(
      std::clamp<int64_t>(options_.io_threads, 1, BridgeMetrics::kMaxIoThreads));
  for (size_t i = 0; i < count; ++i) {
    asio::io_context* shard_io = &io_;
    if (i > 0) {
      shard_ios_.push_back(std::make_unique<asio::io_context>(1));
      shard_io = shard_ios_.back().get();
      work_guards_.push_back(asio::make_work_guard(*shard_io));
    }
    shards_.push_back(std::make_unique<Shard>(i, *shard_io, StreamNames(options_), options_, metrics_));
  }
}

Server::~Server() {
  subscriber_->Stop();
  for (auto& shard_io : shard_ios_) shard_io->stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

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
  log::Info(absl::StrCat("listening on http://", host, ":", bound.port(), "/"));
  return absl::OkStatus();
}

void Server::Run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) Shutdown();
  });
  for (const std::unique_ptr<Shard>& shard : shards_) ScheduleSweep(*shard);
  for (size_t i = 1; i < shards_.size(); ++i) {
    threads_.emplace_back([io = &shards_[i]->io] { io->run(); });
    pthread_setname_np(threads_.back().native_handle(), absl::StrCat("bridge-io-", i).c_str());
  }
  subscriber_->Start();
  Accept();
  io_.run();
  // Shard 0 is done; the others stop themselves once their clients are gone
  // (or their deadline passed).
  for (std::thread& thread : threads_) thread.join();
  subscriber_->Stop();
}

Server::Shard& Server::PickShard() {
  Shard* best = nullptr;
  for (size_t n = 0; n < shards_.size(); ++n) {
    Shard& shard = *shards_[(next_shard_ + n) % shards_.size()];
    if (best == nullptr || shard.hub.client_count() < best->hub.client_count()) best = &shard;
  }
  next_shard_ = (best->index + 1) % shards_.size();
  return *best;
}

void Server::Accept() {
  Shard& shard = PickShard();
  // The socket is bound to the shard's io_context: its session runs there.
  acceptor_.async_accept(shard.io, [this, &shard](const boost::system::error_code& ec,
                                                  tcp::socket socket) {
    OnAccept(shard, ec, std::move(socket));
  });
}

void Server::OnAccept(Shard& shard, const boost::system::error_code& ec, tcp::socket socket) {
  if (shutting_down_ || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors (or a transient error): wait a little rather than
    // spin on a listening socket that stays readable.
    log::Warn(absl::StrCat("accept failed: ", ec.message()));
    accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e) Accept();
    });
    return;
  }
  if (http_connections_->load() + metrics_.clients.load(std::memory_order_relaxed) >=
      options_.max_clients + kHttpHeadroom) {
    metrics_.clients_rejected.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.set_option(asio::socket_base::send_buffer_size(kSendBufferBytes), ignored);
    asio::post(shard.io, [this, &shard, socket = std::move(socket)]() mutable {
      std::make_shared<HttpSession>(std::move(socket), *this, shard.hub)->Start();
    });
  }
  Accept();
}

void Server::ScheduleSweep(Shard& shard) {
  shard.sweep_timer.expires_after(kSweepPeriod);
  shard.sweep_timer.async_wait([this, &shard](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    shard.hub.Sweep(SteadyNowNs());
    ScheduleSweep(shard);
  });
}

void Server::CheckHealth(HealthCallback done) {
  asio::dispatch(io_, [this, done = std::move(done)]() mutable { StartHealthCheck(std::move(done)); });
}

void Server::StartHealthCheck(HealthCallback done) {
  if (std::string reason = subscriber_->DownReason(); !reason.empty()) {
    done(false, std::move(reason));
    return;
  }
  const uint64_t id = ++next_health_id_;
  auto timer = std::make_unique<asio::steady_timer>(io_, kHealthTimeout);
  timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (ec) return;
    std::string reason = subscriber_->DownReason();
    if (reason.empty()) reason = subscriber_->CanaryMissing(id);
    FinishHealth(id, false,
                 reason.empty() ? "canary not delivered through Redis pub/sub within 1 s"
                                : absl::StrCat("canary not delivered within 1 s: ", reason));
  });
  pending_health_.emplace(id, PendingHealth{std::move(done), std::move(timer)});
  subscriber_->RequestCanary(id);
}

void Server::FinishHealth(uint64_t id, bool ok, std::string reason) {
  auto it = pending_health_.find(id);
  if (it == pending_health_.end()) return;
  HealthCallback done = std::move(it->second.done);
  pending_health_.erase(it);  // cancels the timer
  done(ok, std::move(reason));
}

void Server::OnFrames(std::vector<FramePtr> frames) {
  // One batch for every shard; the frames themselves are shared. Clients get
  // the packed copies (one buffer per batch), the hubs keep the originals.
  auto batch = std::make_shared<Hub::Batch>();
  batch->packed = frames.size() > 1 ? PackFrames(frames) : frames;
  batch->frames = std::move(frames);
  for (const std::unique_ptr<Shard>& shard : shards_) {
    bool post;
    {
      absl::MutexLock lock(&shard->inbox_mu);
      shard->inbox.push_back(batch);
      post = !std::exchange(shard->drain_posted, true);
    }
    if (post) asio::post(shard->io, [this, s = shard.get()] { Drain(*s); });
  }
}

void Server::Drain(Shard& shard) {
  {
    absl::MutexLock lock(&shard.inbox_mu);
    shard.draining.swap(shard.inbox);
    shard.drain_posted = false;
  }
  shard.hub.PublishBatches(shard.draining);
  shard.draining.clear();
}

void Server::OnCanary(uint64_t id) {
  asio::post(io_, [this, id] { FinishHealth(id, true, ""); });
}

void Server::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  log::Info(absl::StrCat("shutting down: closing ", metrics_.clients.load(), " clients"));
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  subscriber_->RequestStop();
  const int64_t deadline = SteadyNowNs() + 500'000'000;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    asio::post(shard->io, [this, shard = shard.get(), deadline] { CloseShard(*shard, deadline); });
  }
}

void Server::CloseShard(Shard& shard, int64_t deadline_ns) {
  shard.sweep_timer.cancel();
  shard.hub.CloseAll(kCloseGoingAway, "going away: physics-bridge is shutting down");
  WaitForClientsThenStop(shard, deadline_ns);
}

void Server::WaitForClientsThenStop(Shard& shard, int64_t deadline_ns) {
  const int64_t now = SteadyNowNs();
  shard.hub.Sweep(now);
  if (shard.hub.size() == 0 || now >= deadline_ns) {
    shard.io.stop();
    return;
  }
  shard.stop_timer.expires_after(std::chrono::milliseconds(20));
  shard.stop_timer.async_wait([this, &shard, deadline_ns](const boost::system::error_code& ec) {
    if (!ec) WaitForClientsThenStop(shard, deadline_ns);
  });
}

}  // namespace physics::bridge
