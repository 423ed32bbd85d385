// The terminal for physics-top: raw mode (termios) on the alternate screen
// with the cursor hidden, restored by the destructor; and the signals that
// matter to a full-screen program (SIGINT, SIGTERM, SIGHUP end it, SIGWINCH
// redraws) turned into bytes on a pipe the event loop polls, so the loop, not
// a handler, restores the terminal before exit.
// Not thread-safe: owned by main(); at most one SignalPipe may exist (it owns
// the process's handlers for those signals).
#ifndef PHYSICS_TOOLS_TOP_TERMINAL_H_
#define PHYSICS_TOOLS_TOP_TERMINAL_H_

#include <termios.h>

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace physics::top {

struct TerminalSize {
  int columns = 80;
  int rows = 24;
};

class RawTerminal {
 public:
  // Saves the settings of `fd` (a tty: stdin), switches it to raw mode
  // (no echo, no line buffering; Ctrl-C still raises SIGINT), enters the
  // alternate screen and hides the cursor. kFailedPrecondition when `fd` is
  // not a terminal.
  static absl::StatusOr<RawTerminal> Enter(int fd);

  RawTerminal(RawTerminal&& other) noexcept;
  RawTerminal& operator=(RawTerminal&&) = delete;
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  // Leaves the alternate screen, shows the cursor and restores the saved
  // settings: the shell gets back the terminal it had.
  ~RawTerminal();

  // Writes all of `bytes` (retrying on EINTR and partial writes).
  void Write(std::string_view bytes) const;
  // The current window size; 80x24 when the tty does not say.
  TerminalSize Size() const;

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}

  int fd_;  // -1 when moved from
  termios saved_;
};

class SignalPipe {
 public:
  SignalPipe();   // creates the pipe and installs the handlers
  ~SignalPipe();  // restores the default handlers, closes the pipe
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Readable when a signal arrived.
  int fd() const;
  // The signals that arrived since the last call, oldest first.
  std::vector<int> Drain();
};

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_TERMINAL_H_
