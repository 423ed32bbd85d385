// physics-bridge's process core: the listening socket, the io threads and
// their Hub shards, HTTP and WebSocket sessions, the periodic slow-client
// sweep, /healthz canaries, signals, and the RedisFeed whose messages it fans
// out.
// Threads (each named in `top -H`):
//  - the control thread (the one calling Run(), "physics-bridge") runs the
//    control io_context: acceptor, signals, health checks, and shard 0's
//    sessions;
//  - --io-threads - 1 more io threads ("bridge-io-N"), each running its own
//    io_context with shard N's sessions;
//  - the subscriber thread only calls OnFrames/OnCanary, which hand batches
//    to the io threads (through each shard's inbox: at most one post per
//    shard at a time, never one per client).
// Ownership: a shard's Hub and sessions are touched only on its thread; a new
// connection's socket is bound to the chosen shard's io_context when it is
// accepted. State the threads share is atomic (BridgeMetrics, connection and
// client counts, shutting_down_) or handed over with asio::post.
#ifndef PHYSICS_BRIDGE_SERVER_H_
#define PHYSICS_BRIDGE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "bridge/hub.h"
#include "bridge/metrics.h"
#include "bridge/options.h"
#include "bridge/redis_feed.h"
#include "engine/redis/config.h"

namespace physics::bridge {

class Server final : public SubscriberSink {
 public:
  // Health check outcome: ok, or the reason for 503.
  using HealthCallback = std::function<void(bool ok, std::string reason)>;

  // One io thread and its share of the clients. Everything in it belongs to
  // that thread (`io`'s), except what is noted.
  struct Shard {
    Shard(size_t index, boost::asio::io_context& io, std::vector<std::string> stream_names,
          const BridgeOptions& options, BridgeMetrics& metrics);

    const size_t index;
    boost::asio::io_context& io;
    Hub hub;  // hub.client_count() may be read from any thread
    boost::asio::steady_timer sweep_timer;
    boost::asio::steady_timer stop_timer;
    // Batches from the subscriber thread waiting for this shard. One drain is
    // posted at a time and takes all of them: batches that arrive while the
    // shard is busy fanning out go out together, one write per client.
    absl::Mutex inbox_mu;
    std::vector<std::shared_ptr<const Hub::Batch>> inbox ABSL_GUARDED_BY(inbox_mu);
    bool drain_posted ABSL_GUARDED_BY(inbox_mu) = false;
    std::vector<std::shared_ptr<const Hub::Batch>> draining;  // the shard's thread
  };

  Server(BridgeOptions options, redis::Config config, std::string instance_id);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; logs "listening on http://HOST:PORT/" with the bound
  // port. kUnavailable when the address cannot be bound.
  absl::Status Listen();
  // Starts the subscriber and the io threads and serves until SIGINT/SIGTERM,
  // then closes every shard's clients with 1001, joins the io threads and
  // returns (within about half a second).
  // REQUIRES: Listen() succeeded. Runs the control io_context on the calling
  // thread.
  void Run();

  // For HTTP sessions (any io thread).
  BridgeMetrics& metrics() { return metrics_; }
  const BridgeOptions& options() const { return options_; }
  // Proves delivery: a canary must come back through the subscription within
  // a second. Thread-safe; `done` runs exactly once, on the control thread
  // (post back to your own thread), or never if the bridge is shutting down.
  void CheckHealth(HealthCallback done);
  // HTTP connections open now (for the connection limit). Shared, so a
  // session destroyed with the io_contexts' leftover handlers, after this
  // member, can still count itself out.
  const std::shared_ptr<std::atomic<int64_t>>& http_connections() { return http_connections_; }

  // SubscriberSink: called on the subscriber thread.
  void OnFrames(std::vector<FramePtr> frames) override;
  void OnCanary(uint64_t id) override;

 private:
  struct PendingHealth {
    HealthCallback done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // Control thread.
  void Accept();
  void OnAccept(Shard& shard, const boost::system::error_code& ec,
                boost::asio::ip::tcp::socket socket);
  // The shard with the fewest WebSocket clients, ties taken in turn.
  Shard& PickShard();
  void StartHealthCheck(HealthCallback done);
  void FinishHealth(uint64_t id, bool ok, std::string reason);
  void Shutdown();
  // Shard threads.
  // Fans out every batch in the shard's inbox.
  void Drain(Shard& shard);
  void ScheduleSweep(Shard& shard);
  void CloseShard(Shard& shard, int64_t deadline_ns);
  void WaitForClientsThenStop(Shard& shard, int64_t deadline_ns);

  // The io_contexts are declared first so they go last: shards 1.. (each run
  // by one of threads_), then the control one, whose leftover handlers may
  // hold sessions bound to the others; then the hubs, timers and sockets.
  std::vector<std::unique_ptr<boost::asio::io_context>> shard_ios_;
  boost::asio::io_context io_{1};  // control thread; shard 0
  const BridgeOptions options_;
  BridgeMetrics metrics_;
  std::vector<WorkGuard> work_guards_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<RedisFeed> subscriber_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_timer_;
  boost::asio::signal_set signals_;
  size_t next_shard_ = 0;
  std::shared_ptr<std::atomic<int64_t>> http_connections_ =
      std::make_shared<std::atomic<int64_t>>(0);
  uint64_t next_health_id_ = 0;
  absl::flat_hash_map<uint64_t, PendingHealth> pending_health_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_SERVER_H_
