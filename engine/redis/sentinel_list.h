// The sentinels of a redis-sentinel:// URL and the order to ask them in: the
// one that answered last comes first, as Redis's guide for sentinel clients
// asks, so a dead sentinel costs one timeout rather than one per reconnect.
// Thread-safe: copies of a Config share one list (connections of several
// threads may reorder it at once); the addresses themselves never change.
#ifndef PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_
#define PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_

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

class SentinelList {
 public:
  // REQUIRES: !addresses.empty().
  explicit SentinelList(std::vector<HostPort> addresses);

  // The addresses as given in the URL (for Describe()).
  const std::vector<HostPort>& addresses() const { return addresses_; }
  // A snapshot of the order to ask them in now.
  std::vector<HostPort> InOrder() const;
  // Moves `answered` to the front. Unknown addresses are ignored.
  void Prefer(const HostPort& answered);

 private:
  const std::vector<HostPort> addresses_;
  mutable absl::Mutex mu_;
  std::vector<HostPort> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_SENTINEL_LIST_H_
