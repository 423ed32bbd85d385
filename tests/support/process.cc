#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace physics::testing {
namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

absl::StatusOr<std::string> ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return absl::NotFoundError(
        absl::StrCat("cannot execute \"", name, "\": ", std::strerror(errno)));
  }
  const char* path = ::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? absl::string_view(".") : dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("program \"", name, "\" not found in PATH"));
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::vector<std::string> env;
  auto overridden = [&options](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    return std::any_of(options.env.begin(), options.env.end(),
                       [name](const auto& kv) { return kv.first == name; }) ||
           std::find(options.unset_env.begin(), options.unset_env.end(), name) !=
               options.unset_env.end();
  };
  if (options.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      if (!overridden(*e)) env.emplace_back(*e);
    }
  }
  for (const auto& [name, value] : options.env) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

absl::StatusOr<int> OpenOutput(const std::string& path, bool append) {
  const int fd = ::open(path.c_str(),
                        O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit code ", exit_code);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<Process> Process::Spawn(ProcessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Process::Spawn: empty argv");
  absl::StatusOr<std::string> program = ResolveProgram(options.argv[0]);
  if (!program.ok()) return program.status();

  Process process;
  if (options.stdout_path.empty() || options.stderr_path.empty()) {
    absl::StatusOr<TempDir> dir = TempDir::Create("physics-proc-");
    if (!dir.ok()) return dir.status();
    process.output_dir_.emplace(*std::move(dir));
  }
  process.stdout_path_ = options.stdout_path.empty() ? process.output_dir_->File("stdout")
                                                     : options.stdout_path;
  process.stderr_path_ = options.stderr_path.empty() ? process.output_dir_->File("stderr")
                                                     : options.stderr_path;

  // Everything the child needs is prepared before fork(): after it, the child
  // may only make async-signal-safe calls.
  absl::StatusOr<int> out_fd = OpenOutput(process.stdout_path_, options.append_output);
  if (!out_fd.ok()) return out_fd.status();
  Fd out(*out_fd);
  Fd err_owner;
  int err_fd = out.get();
  if (process.stderr_path_ != process.stdout_path_) {
    absl::StatusOr<int> fd = OpenOutput(process.stderr_path_, options.append_output);
    if (!fd.ok()) return fd.status();
    err_fd = *fd;
    err_owner.Reset(*fd);
  }
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  Fd exec_read(exec_pipe[0]);
  Fd exec_write(exec_pipe[1]);

  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = BuildEnvironment(options);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  const char* working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // exec keeps SIG_IGN, which the parent may have set
    int child_errno = 0;
    if (::dup2(null_in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err_fd, 2) < 0 ||
        (working_dir != nullptr && ::chdir(working_dir) != 0)) {
      child_errno = errno;
    } else {
      ::execve(program->c_str(), argv.data(), envp.data());
      child_errno = errno;
    }
    [[maybe_unused]] ssize_t ignored = ::write(exec_write.get(), &child_errno, sizeof(child_errno));
    ::_exit(127);
  }

  process.pid_ = pid;
  exec_write.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    process.KillAndReap();
    return absl::InternalError(
        absl::StrCat("cannot start ", *program, ": ", std::strerror(child_errno)));
  }
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_(std::move(other.exit_)),
      output_dir_(std::move(other.output_dir_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    exit_ = std::move(other.exit_);
    output_dir_ = std::move(other.output_dir_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

Process::~Process() { KillAndReap(); }

void Process::Reap(int wait_status) {
  ExitStatus status;
  if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  } else {
    status.exit_code = WEXITSTATUS(wait_status);
  }
  exit_ = status;
}

void Process::KillAndReap() {
  if (pid_ <= 0 || exit_.has_value()) return;
  ::kill(pid_, SIGKILL);
  int wait_status = 0;
  while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
  }
  Reap(wait_status);
}

bool Process::running() {
  if (pid_ <= 0 || exit_.has_value()) return false;
  int wait_status = 0;
  if (::waitpid(pid_, &wait_status, WNOHANG) == pid_) {
    Reap(wait_status);
    return false;
  }
  return true;
}

absl::Status Process::Signal(int sig) {
  if (pid_ <= 0 || exit_.has_value()) {
    return absl::FailedPreconditionError("the process has already exited");
  }
  if (::kill(pid_, sig) != 0) {
    return absl::InternalError(absl::StrCat("kill(", pid_, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "process ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(pause, deadline - absl::Now()));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  if (!exit_.has_value()) return absl::FailedPreconditionError("no process");
  return *exit_;
}

ExitStatus Process::Terminate(absl::Duration grace) {
  if (running()) {
    ::kill(pid_, SIGTERM);
    if (absl::StatusOr<ExitStatus> st = Wait(grace); st.ok()) return *st;
  }
  return Kill();
}

ExitStatus Process::Kill() {
  KillAndReap();
  return exit_.value_or(ExitStatus{});
}

std::string Process::ReadStdout() const { return ReadFileOrEmpty(stdout_path_); }
std::string Process::ReadStderr() const { return ReadFileOrEmpty(stderr_path_); }

}  // namespace physics::testing
