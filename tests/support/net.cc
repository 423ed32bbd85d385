#include "tests/support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace physics::testing {

namespace {

// Binds 127.0.0.1:port (0: the kernel picks) and releases it at once: the
// port bound, or -1 (with errno) when it is taken.
int TryBindLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  return ok ? ntohs(addr.sin_port) : -1;
}

}  // namespace

absl::StatusOr<int> PickUnusedLoopbackPort() {
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int port = TryBindLoopback(0);
    if (port < 0) return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
    if (port != 6379) return port;  // never collide with a developer's own Redis
  }
  return absl::InternalError("no free loopback port found");
}

absl::StatusOr<int> PickUnusedLoopbackPortPair(int offset) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    absl::StatusOr<int> port = PickUnusedLoopbackPort();
    if (!port.ok()) return port.status();
    // The kernel's ephemeral range often ends above 65535 - offset: move down.
    int candidate = *port;
    while (candidate + offset > 65535) candidate -= offset;
    if (candidate <= 1024 || candidate == 6379 || candidate + offset == 6379) continue;
    if (TryBindLoopback(candidate) == candidate && TryBindLoopback(candidate + offset) == candidate + offset) {
      return candidate;
    }
  }
  return absl::InternalError(absl::StrCat("no free loopback port pair (offset ", offset, ") found"));
}

}  // namespace physics::testing
