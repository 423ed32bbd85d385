#include "tools/top/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

namespace physics::top {
namespace {

constexpr std::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr std::string_view kLeaveScreen = "\x1b[0m\x1b[?25h\x1b[?1049l";
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};

// The write end of the signal pipe. A global because a signal handler can
// reach nothing else; written only by SignalPipe's constructor and destructor.
std::atomic<int> g_signal_write_fd{-1};

void OnSignal(int sig) {
  const int saved_errno = errno;
  const int fd = g_signal_write_fd.load();
  const unsigned char byte = static_cast<unsigned char>(sig);
  if (fd >= 0) [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  errno = saved_errno;
}

int g_signal_read_fd = -1;  // paired with g_signal_write_fd, same owner

}  // namespace

absl::StatusOr<RawTerminal> RawTerminal::Enter(int fd) {
  termios saved{};
  if (!isatty(fd) || tcgetattr(fd, &saved) != 0) {
    return absl::FailedPreconditionError("stdin is not a terminal (use --once to print one screen)");
  }
  termios raw = saved;
  raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL | BRKINT | INPCK | ISTRIP);
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN);  // ISIG kept: Ctrl-C is SIGINT
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSAFLUSH, &raw) != 0) return absl::FailedPreconditionError("cannot set raw mode");
  RawTerminal term(fd, saved);
  term.Write(kEnterScreen);
  return term;
}

RawTerminal::RawTerminal(RawTerminal&& other) noexcept : fd_(other.fd_), saved_(other.saved_) {
  other.fd_ = -1;
}

RawTerminal::~RawTerminal() {
  if (fd_ < 0) return;
  Write(kLeaveScreen);
  tcsetattr(fd_, TCSAFLUSH, &saved_);
}

void RawTerminal::Write(std::string_view bytes) const {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return;  // the terminal went away (SSH dropped): nothing left to draw on
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

TerminalSize RawTerminal::Size() const {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return {};
  return {ws.ws_col, ws.ws_row};
}

SignalPipe::SignalPipe() {
  int fds[2] = {-1, -1};
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
    g_signal_read_fd = fds[0];
    g_signal_write_fd.store(fds[1]);
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaction(sig, &action, nullptr);
}

SignalPipe::~SignalPipe() {
  for (int sig : kSignals) std::signal(sig, SIG_DFL);
  const int w = g_signal_write_fd.exchange(-1);
  if (w >= 0) close(w);
  if (g_signal_read_fd >= 0) close(g_signal_read_fd);
  g_signal_read_fd = -1;
}

int SignalPipe::fd() const { return g_signal_read_fd; }

std::vector<int> SignalPipe::Drain() {
  std::vector<int> out;
  unsigned char buf[64];
  ssize_t n;
  while ((n = ::read(g_signal_read_fd, buf, sizeof(buf))) > 0) out.insert(out.end(), buf, buf + n);
  return out;
}

}  // namespace physics::top
