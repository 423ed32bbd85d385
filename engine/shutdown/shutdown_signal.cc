#include "engine/shutdown/shutdown_signal.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>

namespace physics::shutdown {
namespace {

// Written only by the signal handler and Request(); async-signal-safe.
std::atomic<bool> g_requested{false};
std::atomic<int> g_event_fd{-1};

void OnSignal(int) {
  g_requested.store(true);
  const int fd = g_event_fd.load();
  if (fd >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
  }
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  g_requested.store(false);
  g_event_fd.store(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A peer closing a socket must show up as an I/O error, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
}

ShutdownSignal::~ShutdownSignal() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const int fd = g_event_fd.exchange(-1);
  if (fd >= 0) ::close(fd);
}

bool ShutdownSignal::requested() const { return g_requested.load(std::memory_order_relaxed); }

void ShutdownSignal::Request() { OnSignal(0); }

bool ShutdownSignal::WaitUntil(feed::SteadyTime deadline) const {
  while (!requested()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    // poll() has millisecond resolution: sleep the sub-millisecond rest
    // precisely so kHz loops keep their period.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
    if (ms == 0) {
      struct timespec ts = {0, static_cast<long>(
                                   std::chrono::duration_cast<std::chrono::nanoseconds>(left).count())};
      ::nanosleep(&ts, nullptr);
      continue;
    }
    struct pollfd pfd = {g_event_fd.load(), POLLIN, 0};
    ::poll(&pfd, 1, static_cast<int>(ms));
  }
  return requested();
}

}  // namespace physics::shutdown
