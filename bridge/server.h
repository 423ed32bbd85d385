// physics-bridge's process core: the listening socket, HTTP and WebSocket
// sessions, the periodic slow-client sweep, /healthz canaries, signals, and
// the Subscriber whose messages it fans out through the Hub.
// Threads: the io thread (the one calling Run()) owns everything here; the
// subscriber thread only calls OnFrames/OnCanary, which post to the io thread
// (one post per burst of Redis messages, never per client).
#ifndef PHYSICS_BRIDGE_SERVER_H_
#define PHYSICS_BRIDGE_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "bridge/hub.h"
#include "bridge/metrics.h"
#include "bridge/options.h"
#include "bridge/subscriber.h"
#include "engine/redis/config.h"

namespace physics::bridge {

class Server final : public SubscriberSink {
 public:
  // Health check outcome: ok, or the reason for 503.
  using HealthCallback = std::function<void(bool ok, std::string reason)>;

  Server(boost::asio::io_context& io, BridgeOptions options, redis::Config config,
         std::string instance_id);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; logs "listening on http://HOST:PORT/" with the bound
  // port. kUnavailable when the address cannot be bound.
  absl::Status Listen();
  // Starts the subscriber and serves until SIGINT/SIGTERM, then closes the
  // clients with 1001 and returns (within about half a second).
  // REQUIRES: Listen() succeeded. Runs the io_context on the calling thread.
  void Run();

  // For HTTP sessions (io thread).
  Hub& hub() { return hub_; }
  BridgeMetrics& metrics() { return metrics_; }
  const BridgeOptions& options() const { return options_; }
  // Proves delivery: a canary must come back through the subscription within
  // a second. `done` runs on the io thread, exactly once.
  void CheckHealth(HealthCallback done);
  // HTTP connections open now (for the connection limit). Shared, so a
  // session destroyed after the Server (with the io_context's leftover
  // handlers) can still count itself out.
  const std::shared_ptr<int64_t>& http_connections() { return http_connections_; }

  // SubscriberSink: called on the subscriber thread.
  void OnFrames(std::vector<FramePtr> frames) override;
  void OnCanary(uint64_t id) override;

 private:
  struct PendingHealth {
    HealthCallback done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void Accept();
  void OnAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void ScheduleSweep();
  void FinishHealth(uint64_t id, bool ok, std::string reason);
  void Shutdown();
  void WaitForClientsThenStop(int64_t deadline_ns);

  boost::asio::io_context& io_;
  const BridgeOptions options_;
  BridgeMetrics metrics_;
  Hub hub_;
  Subscriber subscriber_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer accept_retry_timer_;
  boost::asio::steady_timer stop_timer_;
  boost::asio::signal_set signals_;
  std::shared_ptr<int64_t> http_connections_ = std::make_shared<int64_t>(0);
  uint64_t next_health_id_ = 0;
  absl::flat_hash_map<uint64_t, PendingHealth> pending_health_;
  bool shutting_down_ = false;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_SERVER_H_
