#include "tests/support/tmux.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace physics::testing {

absl::StatusOr<TmuxSession> TmuxSession::Start(std::string socket, int columns, int rows) {
  TmuxSession session(std::move(socket));
  const RunResult r =
      session.Run({"new-session", "-d", "-x", absl::StrCat(columns), "-y", absl::StrCat(rows), "sh"});
  if (r.exit_code != 0) {
    session.socket_.clear();
    return absl::UnavailableError(absl::StrCat("tmux new-session: exit ", r.exit_code, ": ", r.err));
  }
  return session;
}

TmuxSession::TmuxSession(TmuxSession&& other) noexcept : socket_(std::move(other.socket_)) {
  other.socket_.clear();
}

TmuxSession::~TmuxSession() {
  if (!socket_.empty()) Run({"kill-server"});
}

RunResult TmuxSession::Run(std::vector<std::string> args) const {
  std::vector<std::string> argv = {"tmux", "-S", socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunToCompletion(argv);
}

void TmuxSession::Type(const std::string& text) const { Run({"send-keys", "-t", "0", "-l", text}); }

void TmuxSession::Keys(std::vector<std::string> keys) const {
  std::vector<std::string> args = {"send-keys", "-t", "0"};
  args.insert(args.end(), keys.begin(), keys.end());
  Run(args);
}

std::string TmuxSession::Screen() const { return Run({"capture-pane", "-p", "-t", "0"}).out; }

std::string TmuxSession::ShellPid() const {
  return std::string(absl::StripTrailingAsciiWhitespace(Run({"display", "-p", "-t", "0", "#{pane_pid}"}).out));
}

}  // namespace physics::testing
