// Listens for Sentinel's "+switch-master" announcements, so connections to a
// master that was replaced are dropped at their next use instead of after an
// I/O timeout, and reconnect loops may skip their backoff (ioredis's
// failoverDetector does the same). Subscribes on one sentinel at a time (the
// first in SentinelList order that accepts), moving on when it goes away.
// Threads: one "sentinel-watch" thread per SentinelWatch; the destructor
// stops and joins it (within a sentinel timeout).
#ifndef PHYSICS_ENGINE_REDIS_SENTINEL_WATCH_H_
#define PHYSICS_ENGINE_REDIS_SENTINEL_WATCH_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "engine/redis/sentinel_list.h"

namespace physics::redis {

class SentinelWatch {
 public:
  // Starts the thread. Each announcement for `master_name` calls
  // sentinels.NoteSwitch(new master). REQUIRES: `sentinels` outlives this.
  SentinelWatch(SentinelList& sentinels, std::string master_name, std::string sentinel_password);
  SentinelWatch(const SentinelWatch&) = delete;
  SentinelWatch& operator=(const SentinelWatch&) = delete;
  ~SentinelWatch();

 private:
  void Run();
  // Subscribes on `sentinel` and handles announcements until it fails or
  // the watch stops; false when it never got subscribed.
  bool WatchOne(const HostPort& sentinel);
  // Waits `d` or until the destructor wakes the thread; false when stopping.
  bool SleepFor(absl::Duration d);
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  SentinelList& sentinels_;
  const std::string master_name_;
  const std::string sentinel_password_;
  std::atomic<bool> stop_{false};
  const int wake_fd_;  // eventfd: written once by the destructor, to end any wait
  std::thread thread_;
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_SENTINEL_WATCH_H_
