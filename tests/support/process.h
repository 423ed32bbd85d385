// Runs a program as a child process for integration tests (e.g.
// build/bin/physics-engine, redis-server): argv and environment, stdout and
// stderr captured to files, wait with a timeout, signals, exit status.
// A child still running when its Process is destroyed is killed (SIGKILL) and
// reaped, and every child gets PR_SET_PDEATHSIG=SIGKILL, so even a crashed test
// binary leaves no processes behind.
// Not thread-safe: one owner thread (Signal() may be called from another
// thread while the owner is not waiting on the same Process).
//
//   ProcessOptions opts{.argv = {"build/bin/physics-engine", "--hz", "10"},
//                       .env = {{"REDIS_URL", server.url()}}};
//   absl::StatusOr<Process> p = Process::Spawn(std::move(opts));
//   ...
//   ExitStatus st = p->Terminate();        // SIGTERM, then SIGKILL after 5 s
//   EXPECT_EQ(st.exit_code, 0) << p->ReadStderr();
#ifndef PHYSICS_TESTS_SUPPORT_PROCESS_H_
#define PHYSICS_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/temp_dir.h"

namespace physics::testing {

struct ProcessOptions {
  // argv[0] is the program: a path, or a name looked up in the parent's PATH.
  std::vector<std::string> argv = {};
  // Variables set in the child (overriding inherited ones of the same name).
  std::vector<std::pair<std::string, std::string>> env = {};
  // Variables removed from the child's environment.
  std::vector<std::string> unset_env = {};
  // false: the child sees only `env`.
  bool inherit_env = true;
  // Where stdout/stderr go; empty: files in a temp dir owned by the Process.
  // The same path for both merges them.
  std::string stdout_path = {};
  std::string stderr_path = {};
  // Append to existing output files instead of truncating them.
  bool append_output = false;
  // Working directory of the child; empty: the parent's.
  std::string working_dir = {};
};

struct ExitStatus {
  int exit_code = -1;  // the code passed to exit(), when signal == 0
  int signal = 0;      // the signal that ended the process, 0 if it exited

  bool success() const { return signal == 0 && exit_code == 0; }
  // "exit code 2" or "killed by signal 9 (Killed)".
  std::string ToString() const;
};

class Process {
 public:
  // Starts the child. Errors: kInvalidArgument for an empty argv,
  // kNotFound when the program is not found or not executable, kInternal for
  // failing system calls (fork, open, exec); messages name the program.
  static absl::StatusOr<Process> Spawn(ProcessOptions options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // kills (SIGKILL) and reaps the child if it still runs

  pid_t pid() const { return pid_; }

  // True while the child has not exited; reaps it when it has.
  bool running();
  // Sends `sig`. kFailedPrecondition when the child was already reaped.
  absl::Status Signal(int sig);
  // Waits until the child exits, at most `timeout`; kDeadlineExceeded if it
  // still runs then. Returns the same status again once reaped.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL and wait; always reaps.
  ExitStatus Terminate(absl::Duration grace = absl::Seconds(5));
  // SIGKILL and reap.
  ExitStatus Kill();

  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // The output so far ("" when the file cannot be read).
  std::string ReadStdout() const;
  std::string ReadStderr() const;

 private:
  Process() = default;
  void Reap(int wait_status);
  void KillAndReap();

  pid_t pid_ = -1;  // -1 when moved from
  std::optional<ExitStatus> exit_;
  std::optional<TempDir> output_dir_;  // owns the default output files
  std::string stdout_path_ = {};
  std::string stderr_path_ = {};
};

// The whole content of a file, or "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_PROCESS_H_
