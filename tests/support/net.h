// Loopback ports for tests: a port nothing listens on, for servers the test
// starts (never Redis's default 6379) and for "connection refused" cases.
// Thread-safe (stateless).
#ifndef PHYSICS_TESTS_SUPPORT_NET_H_
#define PHYSICS_TESTS_SUPPORT_NET_H_

#include "absl/status/statusor.h"

namespace physics::testing {

// A TCP port on 127.0.0.1 that the kernel just handed out and nobody listens
// on now. Another process may still take it before the caller binds it, so
// servers started on it should retry with a new port when binding fails.
absl::StatusOr<int> PickUnusedLoopbackPort();

// The same, for a server that also binds port + `offset` (a Redis Cluster
// node's bus port, offset 10000): both ports are free and at most 65535.
absl::StatusOr<int> PickUnusedLoopbackPortPair(int offset);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_NET_H_
