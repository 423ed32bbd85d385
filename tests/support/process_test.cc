#include "tests/support/process.h"

#include <signal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"

namespace physics::testing {
namespace {

using ::testing::HasSubstr;

TEST(Process, CapturesStdoutStderrAndExitCode) {
  absl::StatusOr<Process> p = Process::Spawn(
      {.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<ExitStatus> st = p->Wait(absl::Seconds(10));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->exit_code, 3);
  EXPECT_EQ(st->signal, 0);
  EXPECT_FALSE(st->success());
  EXPECT_EQ(st->ToString(), "exit code 3");
  EXPECT_EQ(p->ReadStdout(), "out\n");
  EXPECT_EQ(p->ReadStderr(), "err\n");
}

TEST(Process, FindsProgramInPathAndPassesArguments) {
  absl::StatusOr<Process> p = Process::Spawn({.argv = {"echo", "a b", "", "c"}});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(p->ReadStdout(), "a b  c\n");
}

TEST(Process, SetsAndUnsetsEnvironment) {
  ::setenv("PHYSICS_TEST_INHERITED", "yes", 1);
  ::setenv("PHYSICS_TEST_REMOVED", "yes", 1);
  absl::StatusOr<Process> p = Process::Spawn(
      {.argv = {"/bin/sh", "-c",
                "echo \"$REDIS_URL|$PHYSICS_TEST_INHERITED|${PHYSICS_TEST_REMOVED:-unset}\""},
       .env = {{"REDIS_URL", "redis://127.0.0.1:1/0"}},
       .unset_env = {"PHYSICS_TEST_REMOVED"}});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(p->ReadStdout(), "redis://127.0.0.1:1/0|yes|unset\n");
}

TEST(Process, WaitTimesOutWhileRunningThenSignalEndsIt) {
  absl::StatusOr<Process> p = Process::Spawn({.argv = {"sleep", "30"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->running());
  EXPECT_EQ(p->Wait(absl::Milliseconds(50)).status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(p->Signal(SIGINT).ok());
  absl::StatusOr<ExitStatus> st = p->Wait(absl::Seconds(10));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->signal, SIGINT);
  EXPECT_FALSE(p->running());
  EXPECT_EQ(p->Signal(SIGTERM).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Process, TerminateEscalatesToKill) {
  absl::StatusOr<Process> p =
      Process::Spawn({.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30"}});
  ASSERT_TRUE(p.ok()) << p.status();
  // Wait until the trap is installed.
  ASSERT_TRUE(Eventually([&] { return !p->ReadStdout().empty(); }).ok());
  const ExitStatus st = p->Terminate(absl::Milliseconds(100));
  EXPECT_EQ(st.signal, SIGKILL);
}

TEST(Process, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    absl::StatusOr<Process> p = Process::Spawn({.argv = {"sleep", "30"}});
    ASSERT_TRUE(p.ok());
    pid = p->pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);  // gone and reaped
}

TEST(Process, MissingProgramIsNotFound) {
  absl::StatusOr<Process> p = Process::Spawn({.argv = {"no-such-program-physics"}});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr("no-such-program-physics"));
}

TEST(Process, EmptyArgvIsInvalidArgument) {
  EXPECT_EQ(Process::Spawn({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Process, MergesOutputWhenPathsAreEqual) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string log = dir->File("log");
  absl::StatusOr<Process> p = Process::Spawn({.argv = {"/bin/sh", "-c", "echo a; echo b >&2"},
                                              .stdout_path = log,
                                              .stderr_path = log});
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(ReadFileOrEmpty(log), "a\nb\n");
}

}  // namespace
}  // namespace physics::testing
