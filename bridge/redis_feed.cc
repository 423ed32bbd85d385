#include "bridge/redis_feed.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"

#include "bridge/cluster_subscriber.h"
#include "bridge/subscriber.h"

namespace physics::bridge {

std::unique_ptr<RedisFeed> MakeRedisFeed(redis::Config config, SubscriberOptions options,
                                         SubscriberSink& sink, BridgeMetrics& metrics) {
  if (config.uses_cluster()) {
    return std::make_unique<ClusterSubscriber>(std::move(config), std::move(options), sink, metrics);
  }
  return std::make_unique<Subscriber>(std::move(config), std::move(options), sink, metrics);
}

std::unique_ptr<PushRouter> MakePushRouter(const redis::Config& config, const SubscriberOptions& options) {
  return std::make_unique<PushRouter>(
      config.Key(""), config.Key(absl::StrCat("physics-bridge:canary:", options.instance_id)),
      options.channels);
}

RedisFeed::RedisFeed(std::string initial_down_reason)
    : down_reason_(std::move(initial_down_reason)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

RedisFeed::~RedisFeed() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

void RedisFeed::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  // Fails only when the counter is about to overflow: the thread is awake then.
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void RedisFeed::Start() {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "bridge-redis");  // for top -H and perf
}

void RedisFeed::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  // Wakes a thread blocked in a read or write; the thread still owns (and
  // closes) the sockets, so no descriptor is reused under it.
  ShutdownSockets();
  Wake();
}

void RedisFeed::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

bool RedisFeed::stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

void RedisFeed::RequestCanary(uint64_t id) {
  if (!connected_.load(std::memory_order_acquire)) return;
  {
    absl::MutexLock lock(&mu_);
    canary_requests_.push_back(id);
  }
  Wake();
}

std::vector<uint64_t> RedisFeed::TakeCanaryRequests() {
  std::vector<uint64_t> ids;
  absl::MutexLock lock(&mu_);
  ids.swap(canary_requests_);
  return ids;
}

std::string RedisFeed::DownReason() const {
  absl::MutexLock lock(&mu_);
  return down_reason_;
}

void RedisFeed::SetDown(std::string reason) {
  absl::MutexLock lock(&mu_);
  down_reason_ = std::move(reason);
  if (!down_reason_.empty()) canary_requests_.clear();
}

}  // namespace physics::bridge
