// The sentinels of a redis-sentinel:// URL and the order to ask them in: the
// one that answered last comes first, as Redis's guide for sentinel clients
// asks, so a dead sentinel costs one timeout rather than one per reconnect.
// Also counts the master switches the sentinels announced (sentinel_watch.h),
// which connections and reconnect loops compare against.
// Thread-safe: copies of a Config share one list (connections of several
// threads may reorder it at once); the addresses themselves never change.
// Threads: after StartWatching(), one "sentinel-watch" thread, joined by the
// destructor (when the last Config sharing the list goes).
#ifndef PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_
#define PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace physics::redis {

struct HostPort {
  std::string host;  // a name, an IPv4 or an IPv6 address (without brackets)
  int port = 0;

  bool operator==(const HostPort&) const = default;
  // "host:port", "[::1]:port" for IPv6.
  std::string ToString() const;
};

class SentinelWatch;

class SentinelList {
 public:
  // REQUIRES: !addresses.empty().
  explicit SentinelList(std::vector<HostPort> addresses);
  ~SentinelList();

  // The addresses as given in the URL (for Describe()).
  const std::vector<HostPort>& addresses() const { return addresses_; }
  // A snapshot of the order to ask them in now.
  std::vector<HostPort> InOrder() const;
  // Moves `answered` to the front. Unknown addresses are ignored.
  void Prefer(const HostPort& answered);

  // Starts listening for "+switch-master" of `master_name`, once; later
  // calls do nothing. Connection::Open calls it for every sentinel Config.
  void StartWatching(const std::string& master_name, const std::string& sentinel_password);
  // How many master switches have been announced since StartWatching(): a
  // cheap check for connections to make before each use.
  uint64_t switches() const { return switches_.load(std::memory_order_acquire); }
  // The count and the newest master announced (count 0: none yet).
  struct Switch {
    uint64_t count = 0;
    HostPort master;
  };
  Switch LastSwitch() const;
  // Called by the watch for each announcement of our master.
  void NoteSwitch(const HostPort& new_master);

 private:
  const std::vector<HostPort> addresses_;
  mutable absl::Mutex mu_;
  std::vector<HostPort> order_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> switches_{0};  // written under mu_, read without it
  HostPort announced_master_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed (and its thread joined) before the rest of the list.
  std::unique_ptr<SentinelWatch> watch_ ABSL_GUARDED_BY(mu_);
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_
