#include "tests/support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace physics::testing {

absl::StatusOr<int> PickUnusedLoopbackPort() {
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    const int saved_errno = errno;
    ::close(fd);
    if (!ok) return absl::InternalError(absl::StrCat("bind: ", std::strerror(saved_errno)));
    const int port = ntohs(addr.sin_port);
    if (port != 6379) return port;  // never collide with a developer's own Redis
  }
  return absl::InternalError("no free loopback port found");
}

}  // namespace physics::testing
