#include "tools/status/http_probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace physics::ops {
namespace {

// Closes the descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  return left <= absl::ZeroDuration() ? 0 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

// Waits for `events` on fd until the deadline. kDeadlineExceeded on timeout.
absl::Status WaitFor(int fd, short events, absl::Time deadline, std::string_view what) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    const int ready = poll(&pfd, 1, RemainingMs(deadline));
    if (ready > 0) return absl::OkStatus();
    if (ready == 0) return absl::DeadlineExceededError(absl::StrCat("timed out ", std::string(what)));
    if (errno != EINTR) return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
  }
}

absl::StatusOr<int> Connect(const HttpUrl& url, absl::Time deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", url.host, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  std::string last_error = "no address";
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    absl::Cleanup close_fd = [fd] { close(fd); };
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = std::strerror(errno);
        continue;
      }
      if (absl::Status s = WaitFor(fd, POLLOUT, deadline, "connecting"); !s.ok()) return s;
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = std::strerror(err);
        continue;
      }
    }
    std::move(close_fd).Cancel();
    return fd;
  }
  return absl::UnavailableError(absl::StrCat("cannot connect to ", url.host, ":", url.port, ": ", last_error));
}

absl::StatusOr<HttpResponse> ParseResponse(std::string_view raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  int status = 0;
  if (raw.substr(0, 7) != "HTTP/1." || raw.size() < 12 ||
      std::from_chars(raw.data() + 9, raw.data() + 12, status).ec != std::errc() ||
      head_end == std::string_view::npos) {
    return absl::InternalError("the reply is not an HTTP response");
  }
  return HttpResponse{status, std::string(raw.substr(head_end + 4))};
}

// Content-Length of a complete response head, or -1 when absent.
long ContentLength(std::string_view head) {
  const std::string lower = absl::AsciiStrToLower(std::string(head));
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return -1;
  size_t p = at + 17;
  while (p < lower.size() && lower[p] == ' ') ++p;
  long n = -1;
  std::from_chars(lower.data() + p, lower.data() + lower.size(), n);
  return n;
}

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad URL \"", std::string(url), "\": expected http://HOST[:PORT][/PATH], e.g. http://127.0.0.1:8080"));
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad();
  std::string_view rest = url.substr(kScheme.size());
  HttpUrl out;
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    out.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad();
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad();
    if (!rest.empty()) out.port = std::string(rest.substr(1));
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    out.port = std::string(rest.substr(colon + 1));
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (host.empty() || out.port.empty() || ec != std::errc() || end != out.port.data() + out.port.size() ||
      port == 0 || port > 65535) {
    return bad();
  }
  out.host = std::string(host);
  return out;
}

absl::StatusOr<HttpResponse> HttpGet(const HttpUrl& url, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> fd_or = Connect(url, deadline);
  if (!fd_or.ok()) return fd_or.status();
  Fd fd(*fd_or);
  const std::string host = url.host.find(':') == std::string::npos ? url.host : absl::StrCat("[", url.host, "]");
  const std::string request = absl::StrCat("GET ", url.path, " HTTP/1.1\r\nHost: ", host, ":", url.port,
                                           "\r\nUser-Agent: physics-status\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    if (absl::Status s = WaitFor(fd.get(), POLLOUT, deadline, "sending the request"); !s.ok()) return s;
    const ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    if (absl::Status s = WaitFor(fd.get(), POLLIN, deadline, "waiting for the response"); !s.ok()) return s;
    const ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      if (!raw.empty()) break;  // a reset after the response: keep what arrived
      return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    raw.append(buf, static_cast<size_t>(n));
    const size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) continue;
    const long length = ContentLength(std::string_view(raw).substr(0, head_end + 2));
    if (length >= 0 && raw.size() >= head_end + 4 + static_cast<size_t>(length)) {
      raw.resize(head_end + 4 + static_cast<size_t>(length));
      break;
    }
  }
  return ParseResponse(raw);
}

}  // namespace physics::ops
