// Operations end to end: the compose file validates, the Dockerfile
// installs exactly what CMake needs, physics-status judges a real system
// (redis-server + physics-engine + physics-bridge) OK / WARN / FAIL, and
// physics-top works in a real 80x24 terminal (tmux).
#include <unistd.h>

#include <csignal>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/files.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"
#include "tests/support/state_json.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmux.h"

namespace physics {
namespace {

using testing::Eventually;
using testing::OnPath;
using testing::Process;
using testing::RedisServer;
using testing::ReadFileOrEmpty;
using testing::RunResult;
using testing::RunToCompletion;
using testing::StateEventJson;
using testing::StateJson;
using testing::TmuxSession;

const std::string kSource = PHYSICS_SOURCE_DIR;
constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kBridge = PHYSICS_BRIDGE_BIN;
constexpr const char* kStatus = PHYSICS_STATUS_BIN;
constexpr const char* kTop = PHYSICS_TOP_BIN;

// Probes that start a program (physics-status, tmux) poll more slowly.
constexpr absl::Duration kProgramPoll = absl::Milliseconds(50);

// ---------------------------------------------------------------- Docker

TEST(Compose, ConfigValidatesWithHealthchecksAndConditions) {
  if (!OnPath("docker-compose")) GTEST_SKIP() << "docker-compose is not installed (tools/setup.sh installs it)";
  const RunResult r = RunToCompletion({"docker-compose", "-f", kSource + "/docker-compose.yml", "config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* expected : {"redis:7-alpine", "redis-cli", "appendfsync everysec", "noeviction",
                               "redis-data:/data", "condition: service_healthy", "physics-status",
                               "0.0.0.0:8080", "127.0.0.1:8080:8080"}) {
    EXPECT_TRUE(absl::StrContains(r.out, expected)) << expected << " missing in:\n" << r.out;
  }
}

// `docker-compose --profile NAME config`: valid, holding every `expected`
// text, with `services` services behind the profile, so that a plain `up`
// starts what it always did (the default engine and bridge still on the
// single Redis).
void ExpectProfile(const std::string& profile, std::initializer_list<const char*> expected, size_t services) {
  const RunResult r =
      RunToCompletion({"docker-compose", "-f", kSource + "/docker-compose.yml", "--profile", profile, "config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* text : expected) {
    EXPECT_TRUE(absl::StrContains(r.out, text)) << text << " missing in:\n" << r.out;
  }
  const std::string marker = "profiles:\n    - " + profile + "\n";
  size_t behind_profile = 0;
  for (size_t at = r.out.find(marker); at != std::string::npos; at = r.out.find(marker, at + 1)) {
    ++behind_profile;
  }
  EXPECT_EQ(behind_profile, services) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "REDIS_URL: redis://redis:6379/0")) << r.out;
}

// Profile "sentinel": master, 2 replicas, 3 sentinels, 2 engines sharing the
// leader lease and a bridge.
TEST(Compose, SentinelProfileValidatesAndStaysOutOfTheDefaultSetUp) {
  if (!OnPath("docker-compose")) GTEST_SKIP() << "docker-compose is not installed (tools/setup.sh installs it)";
  ExpectProfile("sentinel",
                {"ha-redis-1:", "ha-redis-2:", "ha-redis-3:", "REPLICAOF: ha-redis-1 6379", "ha-sentinel-1:",
                 "ha-sentinel-2:", "ha-sentinel-3:", "sentinel monitor mymaster ha-redis-1 6379 2",
                 "redis-server /data/sentinel.conf --sentinel", "ha-engine-1:", "ha-engine-2:", "- --leader-lease",
                 "ha-bridge:", "127.0.0.1:8081:8080",
                 "REDIS_URL: redis-sentinel://ha-sentinel-1:26379,ha-sentinel-2:26379,ha-sentinel-3:26379/0#mymaster"},
                9);
}

// Profile "cluster": 6 cluster nodes, the one-shot that creates the cluster,
// two engine shards and a bridge.
TEST(Compose, ClusterProfileValidatesAndStaysOutOfTheDefaultSetUp) {
  if (!OnPath("docker-compose")) GTEST_SKIP() << "docker-compose is not installed (tools/setup.sh installs it)";
  ExpectProfile("cluster",
                {"cl-redis-1:", "cl-redis-6:", "--cluster-enabled yes", "--cluster-preferred-endpoint-type hostname",
                 "HOSTNAME_ANNOUNCED: cl-redis-4", "cl-init:", "--cluster-replicas 1 --cluster-yes",
                 "condition: service_completed_successfully", "cl-engine-1:", "cl-engine-2:", "- --shard\n    - 0/2",
                 "- --shard\n    - 1/2", "cl-bridge:", "127.0.0.1:8082:8080",
                 "REDIS_URL: redis-cluster://cl-redis-1:6379,cl-redis-2:6379,cl-redis-3:6379"},
                10);
}

// Debian packages per CMake dependency: what the build stage installs, and
// the runtime package with its shared library ("" for header-only ones).
struct DebianPackages {
  std::string dev;
  std::string runtime;
};
const std::map<std::string, DebianPackages> kDebianPackages = {
    {"absl", {"libabsl-dev", "libabsl20220623"}},
    {"Eigen3", {"libeigen3-dev", ""}},
    {"simdjson", {"libsimdjson-dev", "libsimdjson14"}},
    {"Threads", {"", ""}},  // part of libc
    {"Boost", {"libboost-dev", ""}},
    {"hiredis", {"libhiredis-dev", "libhiredis0.14"}},
};

// The packages CMakeLists.txt finds outside the test/benchmark blocks, by
// the name find_package gets (find_path/find_library: the library's name).
std::set<std::string> CMakeDependencies() {
  std::set<std::string> deps;
  std::vector<bool> optional_block;  // per open if(): a tests/benchmarks block?
  std::istringstream in(ReadFileOrEmpty(kSource + "/CMakeLists.txt"));
  for (std::string line; std::getline(in, line);) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(l, "if(")) {
      optional_block.push_back(absl::StrContains(l, "PHYSICS_BUILD_TESTS") ||
                               absl::StrContains(l, "PHYSICS_BUILD_BENCHMARKS"));
    } else if (absl::StartsWith(l, "endif(") && !optional_block.empty()) {
      optional_block.pop_back();
    }
    const bool optional = std::find(optional_block.begin(), optional_block.end(), true) != optional_block.end();
    for (const char* call : {"find_package(", "find_library(", "find_path("}) {
      if (!absl::StartsWith(l, call) || optional) continue;
      std::vector<std::string> args = absl::StrSplit(l.substr(strlen(call)), absl::ByAnyChar(" )"), absl::SkipEmpty());
      if (args.empty()) continue;
      std::string name = std::string(call) == "find_package(" ? args[0] : args.size() > 1 ? args[1] : args[0];
      name = std::string(absl::StripSuffix(name.substr(0, name.find('/')), ".h"));  // hiredis/hiredis.h
      deps.insert(name);
    }
  }
  return deps;
}

// The apt-get install arguments of each FROM stage of the Dockerfile.
std::vector<std::set<std::string>> DockerfileAptPackages() {
  std::vector<std::set<std::string>> stages;
  std::string text = ReadFileOrEmpty(kSource + "/Dockerfile");
  // Join continuation lines so each RUN is one line.
  text = absl::StrReplaceAll(text, {{"\\\n", " "}});
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "FROM ")) stages.emplace_back();
    size_t at = line.find("apt-get install");
    if (at == absl::string_view::npos || stages.empty()) continue;
    absl::string_view args = line.substr(at + strlen("apt-get install"));
    args = args.substr(0, args.find("&&"));
    for (absl::string_view word : absl::StrSplit(args, ' ', absl::SkipEmpty())) {
      if (!absl::StartsWith(word, "-")) stages.back().insert(std::string(word));
    }
  }
  return stages;
}

TEST(Dockerfile, AptPackagesMatchTheCMakeDependencies) {
  const std::vector<std::set<std::string>> stages = DockerfileAptPackages();
  ASSERT_EQ(stages.size(), 2u) << "expected a build and a runtime stage";
  const std::set<std::string>& build = stages[0];
  const std::set<std::string>& runtime = stages[1];
  const std::string setup = ReadFileOrEmpty(kSource + "/tools/setup.sh");

  std::set<std::string> expected_dev;
  for (const std::string& dep : CMakeDependencies()) {
    auto it = kDebianPackages.find(dep);
    ASSERT_NE(it, kDebianPackages.end())
        << "CMakeLists.txt finds " << dep << ": add its Debian packages to kDebianPackages, the Dockerfile and "
        << "tools/setup.sh";
    if (!it->second.dev.empty()) {
      expected_dev.insert(it->second.dev);
      EXPECT_TRUE(absl::StrContains(setup, it->second.dev)) << it->second.dev << " missing in tools/setup.sh";
    }
    if (!it->second.runtime.empty()) {
      EXPECT_EQ(runtime.count(it->second.runtime), 1u) << it->second.runtime << " missing in the runtime stage";
    }
  }
  std::set<std::string> build_dev;
  for (const std::string& p : build) {
    if (absl::EndsWith(p, "-dev")) build_dev.insert(p);
  }
  EXPECT_EQ(build_dev, expected_dev) << "the build stage's -dev packages drifted from CMakeLists.txt";
  for (const std::string& p : runtime) EXPECT_FALSE(absl::EndsWith(p, "-dev")) << p << " in the runtime stage";
  for (const char* tool : {"cmake", "ninja-build", "build-essential"}) EXPECT_EQ(build.count(tool), 1u) << tool;
}

// Every shared library the programs load comes from a package the runtime
// stage installs (or from the base image's libc6/libgcc-s1).
TEST(Dockerfile, RuntimeStageHasEverySharedLibraryTheProgramsLoad) {
  if (!OnPath("ldd") || !OnPath("dpkg")) GTEST_SKIP() << "needs ldd and dpkg";
#ifdef PHYSICS_SANITIZED
  GTEST_SKIP() << "sanitizer builds load libasan/libubsan, which no image ships; "
                  "the Release suite runs this check";
#endif
  const std::set<std::string> runtime = DockerfileAptPackages().at(1);
  std::map<std::string, std::string> loaded_by;  // library path -> a program loading it
  for (const char* program : {kEngine, kBridge, kStatus, kTop}) {
    const RunResult ldd = RunToCompletion({"ldd", program});
    ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
    for (absl::string_view line : absl::StrSplit(ldd.out, '\n')) {
      const size_t arrow = line.find("=> /");
      if (arrow == absl::string_view::npos) continue;
      loaded_by.emplace(std::string(line.substr(arrow + 3, line.find(" (") - arrow - 3)), program);
    }
  }
  // One dpkg call for all of them (it is slow to start); with merged /usr a
  // library under /lib is registered under /usr/lib, so ask for both.
  std::vector<std::string> argv = {"dpkg", "-S"};
  for (const auto& [path, program] : loaded_by) {
    argv.push_back(path);
    if (!absl::StartsWith(path, "/usr/")) argv.push_back("/usr" + path);
  }
  const RunResult owners = RunToCompletion(argv, absl::Seconds(60));
  std::map<std::string, std::string> package_of;  // path -> package
  for (absl::string_view line : absl::StrSplit(owners.out, '\n', absl::SkipEmpty())) {
    const size_t colon = line.find(':'), sep = line.find(": ");
    if (colon == absl::string_view::npos || sep == absl::string_view::npos) continue;
    std::string path(line.substr(sep + 2));
    if (absl::StartsWith(path, "/usr/") && !loaded_by.count(path)) path = path.substr(4);
    package_of[path] = std::string(line.substr(0, colon));
  }
  for (const auto& [path, program] : loaded_by) {
    auto it = package_of.find(path);
    ASSERT_NE(it, package_of.end()) << "no Debian package owns " << path << " (loaded by " << program << ")";
    if (it->second == "libc6" || it->second == "libgcc-s1") continue;
    EXPECT_EQ(runtime.count(it->second), 1u) << program << " loads " << path << " from " << it->second
                                             << ", which the runtime stage does not install";
  }
}

// ---------------------------------------------------------------- physics-status

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    absl::StatusOr<int> port = testing::PickUnusedLoopbackPort();
    ASSERT_TRUE(port.ok());
    bridge_url_ = absl::StrCat("http://127.0.0.1:", *port);
    engine_.emplace(testing::SpawnWithRedis(kEngine, redis_.url(), {"--hz", "5", "--symbols", "20"}).value());
    bridge_.emplace(
        testing::SpawnWithRedis(kBridge, redis_.url(), {"--listen", absl::StrCat("127.0.0.1:", *port)}).value());
    // The engine's own heartbeat (docs/SPEC.md §2), written at start-up.
    const absl::Status beat = Eventually([&] { return !testing::Keys(redis_, "ops:hb:engine:*").empty(); });
    ASSERT_TRUE(beat.ok()) << "physics-engine wrote no ops:hb:engine:* heartbeat: " << beat << "\n"
                           << engine_->ReadStderr();
  }

  RunResult Status(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kStatus, "--redis-url", redis_.url(), "--bridge-url", bridge_url_,
                                     "--max-latency-ms", "100"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunToCompletion(argv);
  }

  // Runs physics-status until its result satisfies `done` (the system takes
  // a moment to settle: the bridge's first canary, the engine's first ticks,
  // a stopped engine's states ageing) or 10 s have passed; the last result.
  RunResult StatusUntil(const std::function<bool(const RunResult&)>& done, std::vector<std::string> extra = {}) {
    RunResult r;
    Eventually([&] { return done(r = Status(extra)); }, absl::Seconds(10), kProgramPoll).IgnoreError();
    return r;
  }
  RunResult StatusUntil(int code) {
    return StatusUntil([code](const RunResult& r) { return r.exit_code == code; });
  }

  RedisServer redis_;
  std::string bridge_url_;
  std::optional<Process> engine_, bridge_;
};

TEST_F(StatusTest, ReportsOkForARunningSystem) {
  const RunResult r = StatusUntil(0);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << "\nengine:\n" << engine_->ReadStderr() << "\nbridge:\n"
                            << bridge_->ReadStderr();
  for (const char* check : {"redis", "persistence", "latency", "engine", "bridge", "states", "snapshots",
                            "subscribers", "dlq", "overall"}) {
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("OK    ", check))) << check << " in\n" << r.out;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "20 physics:state:* keys")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "/healthz 200")) << r.out;

  const RunResult json = Status({"--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(json.out, R"({"overall":"OK")")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, R"("state_update_subscribers":1)")) << json.out;
}

TEST_F(StatusTest, WarnsWhenTheEngineStops) {
  ASSERT_EQ(StatusUntil(0).exit_code, 0);
  EXPECT_EQ(engine_->Terminate().exit_code, 0) << engine_->ReadStderr();
  // Until the last states written are more than a second old.
  const RunResult r = StatusUntil(
      [](const RunResult& r) { return absl::StrContains(r.out, "WARN  states"); }, {"--max-state-age", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "WARN  states")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "oldest state older than 1 s")) << r.out;
  // The engine deletes its heartbeat when it stops cleanly.
  EXPECT_TRUE(absl::StrContains(r.out, "WARN  engine       no fresh heartbeat")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "WARN  overall")) << r.out;
}

TEST_F(StatusTest, NamesTheEngineThatHoldsTheLeaderLease) {
  // What an engine started with --leader-lease writes (docs/SPEC.md §9).
  ASSERT_TRUE(redis_.Run({"SET", "ops:leader:engine", "host-4242", "PX", "60000"}).ok());
  const RunResult r = StatusUntil(0);
  EXPECT_TRUE(absl::StrContains(r.out, "leader host-4242 (lease ")) << r.out;
  const RunResult json = Status({"--json"});
  EXPECT_TRUE(absl::StrContains(json.out, R"("leader":"host-4242")")) << json.out;
}

TEST_F(StatusTest, NamesTheLeaderOfEachEngineShard) {
  // What engines started with --shard I/N --leader-lease write; the cluster
  // lease's fencing copies (ops:leader:engine:0/2:{T}) are no shard of their own.
  ASSERT_TRUE(redis_.Run({"SET", "ops:leader:engine:1/2", "host-2", "PX", "60000"}).ok());
  ASSERT_TRUE(redis_.Run({"SET", "ops:leader:engine:0/2", "host-1", "PX", "60000"}).ok());
  ASSERT_TRUE(redis_.Run({"SET", "ops:leader:engine:0/2:{42}", "7"}).ok());
  const RunResult r = StatusUntil(0);
  EXPECT_TRUE(absl::StrContains(r.out, "shard 0/2 leader host-1 (lease ")) << r.out;
  EXPECT_LT(r.out.find("shard 0/2 leader"), r.out.find("shard 1/2 leader host-2")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "{42}")) << r.out;
  const RunResult json = Status({"--json"});
  EXPECT_TRUE(absl::StrContains(json.out, R"("leader_0_2":"host-1")")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, R"("leader_1_2":"host-2")")) << json.out;
}

// `--shard` engines on one server dead-letter into their partitions' DLQs
// (docs/SPEC.md §2); those count as much as the one stream's.
TEST_F(StatusTest, WarnsNamingAPartitionDlqThatHoldsEntriesOnOneServer) {
  const std::string dlq = redis::Partitioning(24).Stream("market:ticks:dlq", redis::Partitioning(24).Of("SPY"));
  ASSERT_EQ(dlq, "market:ticks:dlq:{62}");  // the name docs/operations.md gives
  ASSERT_TRUE(redis_.Run({"XADD", dlq, "*", "raw", "{}", "error", "price: missing"}).ok());
  ASSERT_TRUE(redis_.Run({"XADD", "market:ticks:dlq", "*", "raw", "{}", "error", "price: missing"}).ok());
  const RunResult r = StatusUntil([](const RunResult& r) { return absl::StrContains(r.out, "WARN  dlq"); },
                                  {"--check", "dlq"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "24 partition DLQs market:ticks:dlq:{TAG}: 2 rejected ticks")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "inspect with XRANGE market:ticks:dlq, market:ticks:dlq:{62} - + COUNT 10"))
      << r.out;
  // The partitions a deployment uses are its own: with 4, SPY's DLQ is another key.
  const RunResult four = Status({"--check", "dlq", "--partitions", "4"});
  EXPECT_TRUE(absl::StrContains(four.out, "4 partition DLQs market:ticks:dlq:{TAG}: 1 rejected tick")) << four.out;
}

TEST_F(StatusTest, FailsNamingTheCauseWhenRedisIsDown) {
  redis_.Kill();
  const RunResult r = Status({"--timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "FAIL  redis")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "cannot connect")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "FAIL  overall")) << r.out;

  const RunResult json = Status({"--timeout", "0.5", "--json"});
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_TRUE(absl::StartsWith(json.out, R"({"overall":"FAIL")")) << json.out;
}

TEST(Status, BadFlagIsOneLineAndExitCode2) {
  const RunResult r = RunToCompletion({kStatus, "--check", "engine,nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--check \"engine,nope\": expected all or a comma list of")) << r.err;
}

// ---------------------------------------------------------------- physics-top

// physics-top in a detached 80x24 tmux session running sh, on a private
// tmux server (its own socket), so nothing touches the user's tmux.
class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!OnPath("tmux")) GTEST_SKIP() << "tmux is not installed (tools/setup.sh installs it)";
    ASSERT_TRUE(redis_.Start().ok());
    ASSERT_TRUE(redis_.Run({"SET", "physics:state:AAA", StateJson(1, 1)}).ok());
    ASSERT_TRUE(redis_.Run({"SET", "physics:state:BBB", StateJson(3, 1)}).ok());
    ASSERT_TRUE(redis_.Run({"SET", "physics:state:CCC", StateJson(2, 1)}).ok());
    absl::StatusOr<TmuxSession> tmux = TmuxSession::Start(dir_.File("tmux.sock"), 80, 24);
    ASSERT_TRUE(tmux.ok()) << tmux.status();
    tmux_.emplace(*std::move(tmux));
    Type(absl::StrCat(kTop, " --redis-url ", redis_.url()));
    Keys({"Enter"});
  }

  void Type(const std::string& text) { tmux_->Type(text); }
  void Keys(std::vector<std::string> keys) { tmux_->Keys(std::move(keys)); }
  std::string Screen() { return tmux_->Screen(); }
  // The symbols of the table rows, top to bottom.
  std::vector<std::string> Rows() {
    std::vector<std::string> rows;
    for (absl::string_view line : absl::StrSplit(Screen(), '\n')) {
      for (const char* s : {"AAA ", "BBB ", "CCC "}) {
        if (absl::StartsWith(line, s)) rows.emplace_back(absl::StripTrailingAsciiWhitespace(s));
      }
    }
    return rows;
  }
  bool ShowsRows(const std::vector<std::string>& expected) {
    return Eventually([&] { return Rows() == expected; }, absl::Seconds(5), kProgramPoll).ok();
  }
  // Runs `stty -a` in the pane's shell and returns its output.
  std::string ShellStty() {
    const std::string out = dir_.File("stty.txt");
    Type(absl::StrCat("stty -a > ", out, "; echo stty-done"));
    Keys({"Enter"});
    Eventually([&] { return absl::StrContains(ReadFileOrEmpty(out), "rows"); }, absl::Seconds(5), kProgramPoll)
        .IgnoreError();
    return ReadFileOrEmpty(out);
  }
  // The physics-top process: the child of the pane's shell.
  pid_t TopPid() {
    const std::string shell = tmux_->ShellPid();
    const std::string children = ReadFileOrEmpty(absl::StrCat("/proc/", shell, "/task/", shell, "/children"));
    return static_cast<pid_t>(std::atoi(children.c_str()));
  }

  RedisServer redis_;
  testing::TempDir dir_ = *testing::TempDir::Create("physics-top-");
  std::optional<TmuxSession> tmux_;  // after dir_: its server goes first
};

TEST_F(TopTest, ShowsSymbolsResortsFollowsUpdatesFiltersAndQuits) {
  ASSERT_TRUE(ShowsRows({"AAA", "BBB", "CCC"})) << Screen();
  const std::string screen = Screen();
  EXPECT_TRUE(absl::StrContains(screen, "3/3 symbols")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "SYMBOL")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "Gaussian")) << screen;
  for (absl::string_view line : absl::StrSplit(screen, '\n')) EXPECT_LE(line.size(), 80u) << line;

  Keys({"m"});  // mass, largest first
  EXPECT_TRUE(ShowsRows({"BBB", "CCC", "AAA"})) << Screen();
  EXPECT_TRUE(absl::StrContains(Screen(), "sort mass v")) << Screen();

  // A state_update moves AAA to the top.
  ASSERT_TRUE(redis_.Run({"PUBLISH", "state_update", StateEventJson("AAA", 10, 2)}).ok());
  EXPECT_TRUE(ShowsRows({"AAA", "BBB", "CCC"})) << Screen();

  Keys({"/", "c", "Enter"});
  EXPECT_TRUE(ShowsRows({"CCC"})) << Screen();
  EXPECT_TRUE(absl::StrContains(Screen(), "1/3 symbols")) << Screen();

  Keys({"q"});
  ASSERT_TRUE(Eventually([&] { return TopPid() == 0; }, absl::Seconds(5), kProgramPoll).ok()) << Screen();
  const std::string stty = ShellStty();
  EXPECT_TRUE(absl::StrContains(stty, " icanon")) << "terminal left in raw mode:\n" << stty;
  EXPECT_TRUE(absl::StrContains(stty, " echo ")) << stty;
}

TEST_F(TopTest, RestoresTheTerminalOnSigterm) {
  ASSERT_TRUE(ShowsRows({"AAA", "BBB", "CCC"})) << Screen();
  const pid_t pid = TopPid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  ASSERT_TRUE(Eventually([&] { return TopPid() == 0; }, absl::Seconds(5), kProgramPoll).ok()) << Screen();
  const std::string stty = ShellStty();
  EXPECT_TRUE(absl::StrContains(stty, " icanon")) << stty;
  EXPECT_TRUE(absl::StrContains(stty, " echo ")) << stty;
}

}  // namespace
}  // namespace physics
