// physics-status against a real Sentinel set-up (master, 2 replicas, 3
// sentinels on loopback): the "sentinel" check is OK with every replica and
// sentinel up, WARN when a replica or the sentinels' quorum is lost, FAIL when
// no sentinel answers; after a failover it names the new master and when; the engine line still names the lease holder.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/sentinel_set.h"

namespace physics {
namespace {

using testing::Eventually;
using testing::RunResult;
using testing::RunToCompletion;
using testing::SentinelSet;

constexpr const char* kStatus = PHYSICS_STATUS_BIN;

class SentinelStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status started = set_.Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  RunResult Status(const std::string& checks, bool json = false) {
    std::vector<std::string> argv = {kStatus, "--redis-url", set_.url(), "--bridge-url", "",
                                     "--check",  checks,     "--timeout",  "0.5"};
    if (json) argv.push_back("--json");
    return RunToCompletion(argv);
  }

  // Runs physics-status until `done` holds (the sentinels notice a stopped
  // node only after down-after-milliseconds) or 15 s have passed.
  RunResult StatusUntil(const std::function<bool(const RunResult&)>& done, const std::string& checks = "sentinel") {
    RunResult r;
    Eventually([&] { return done(r = Status(checks)); }, absl::Seconds(15), absl::Milliseconds(100)).IgnoreError();
    return r;
  }

  SentinelSet set_;
};

TEST_F(SentinelStatusTest, OkWithTwoReplicasAndQuorum) {
  const RunResult r = StatusUntil([](const RunResult& r) { return r.exit_code == 0; });
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("OK    sentinel     master 127.0.0.1:", set_.node(0).port())))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "(no failover seen, config-epoch 0)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "2 of 2 replicas up")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "3 of 3 sentinels answered, quorum 2")) << r.out;

  const RunResult json = Status("sentinel", /*json=*/true);
  EXPECT_EQ(json.exit_code, 0) << json.out;
  for (const char* fact : {R"("replicas_up":2)", R"("sentinels_answered":3)", R"("quorum_reachable":1)",
                           R"("lag_seconds":)", R"("behind_bytes":)"}) {
    EXPECT_TRUE(absl::StrContains(json.out, fact)) << fact << " in " << json.out;
  }
}

TEST_F(SentinelStatusTest, WarnsWhenAReplicaStops) {
  set_.node(2).Stop();
  const RunResult r = StatusUntil([](const RunResult& r) { return r.exit_code == 1; });
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "WARN  sentinel")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "1 of 2 replicas up")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("127.0.0.1:", set_.node(2).port(), " down"))) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "fewer than 2 replicas up")) << r.out;
}

TEST_F(SentinelStatusTest, NamesTheNewMasterAndTheFailoverAgeAfterAFailover) {
  set_.node(0).Kill();
  const absl::StatusOr<int> new_port = set_.WaitForNewMaster(set_.node(0).port(), absl::Seconds(20));
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  const std::string master = absl::StrCat("master 127.0.0.1:", *new_port, " (last failover ");
  // Until the other replica has re-synced from the new master; the dead
  // master stays listed as a replica that is down.
  const RunResult r = StatusUntil([&](const RunResult& r) {
    return absl::StrContains(r.out, master) && absl::StrContains(r.out, "1 of 2 replicas up");
  });
  EXPECT_TRUE(absl::StrContains(r.out, master)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ago, config-epoch 1)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "1 of 2 replicas up")) << r.out;
  EXPECT_EQ(r.exit_code, 1) << r.out;
}

TEST_F(SentinelStatusTest, WarnsWithoutQuorumWhenTwoOfThreeSentinelsStop) {
  set_.sentinel(1).Stop();
  set_.sentinel(2).Stop();
  const RunResult r = StatusUntil([](const RunResult& r) { return absl::StrContains(r.out, "no quorum"); });
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "WARN  sentinel")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "1 of 3 sentinels answered")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "no quorum: NOQUORUM")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("sentinel 127.0.0.1:", set_.sentinel(1).port()))) << r.out;
}

TEST_F(SentinelStatusTest, FailsWhenNoSentinelAnswers) {
  for (size_t i = 0; i < set_.sentinel_count(); ++i) set_.sentinel(i).Stop();
  const RunResult r = Status("sentinel");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "FAIL  sentinel     0 of 3 sentinels answered")) << r.out;
  const RunResult json = Status("sentinel", /*json=*/true);
  EXPECT_TRUE(absl::StrContains(json.out, R"("sentinels_answered":0)")) << json.out;
}

TEST_F(SentinelStatusTest, EngineLineNamesTheLeaseHolderThroughTheSentinels) {
  // What an engine started with --leader-lease writes (docs/SPEC.md §9).
  ASSERT_TRUE(set_.node(0).Run({"SET", "ops:leader:engine", "host-4242", "PX", "60000"}).ok());
  const RunResult r = Status("engine");
  EXPECT_TRUE(absl::StrContains(r.out, "leader host-4242 (lease ")) << r.out;
}

}  // namespace
}  // namespace physics
