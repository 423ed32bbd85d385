// A detached tmux session on a private tmux server (its own socket in a
// directory of the caller's), so a terminal program (physics-top) can be
// driven and read like a user would, without touching the user's tmux. The
// server is killed on destruction. Not thread-safe: one test thread drives it.
//
//   absl::StatusOr<TmuxSession> tmux = TmuxSession::Start(dir.File("tmux.sock"), 80, 24);
//   tmux->Type("physics-top --redis-url ...");
//   tmux->Keys({"Enter"});
//   std::string screen = tmux->Screen();
#ifndef PHYSICS_TESTS_SUPPORT_TMUX_H_
#define PHYSICS_TESTS_SUPPORT_TMUX_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/programs.h"

namespace physics::testing {

class TmuxSession {
 public:
  // A session of `columns` x `rows` running sh, served at `socket`.
  static absl::StatusOr<TmuxSession> Start(std::string socket, int columns, int rows);
  TmuxSession(TmuxSession&& other) noexcept;
  TmuxSession& operator=(TmuxSession&&) = delete;
  ~TmuxSession();  // kill-server

  // `tmux -S socket args...`.
  RunResult Run(std::vector<std::string> args) const;
  // Text typed into the pane as is.
  void Type(const std::string& text) const;
  // Key names (Enter, Escape, "q", ...).
  void Keys(std::vector<std::string> keys) const;
  // What the pane shows now, a line per row.
  std::string Screen() const;
  // The pid of the pane's shell.
  std::string ShellPid() const;

 private:
  explicit TmuxSession(std::string socket) : socket_(std::move(socket)) {}
  std::string socket_;  // empty once moved from
};

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_TMUX_H_
