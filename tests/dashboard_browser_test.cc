// The dashboard in a real headless Chromium: with the engine on the simulated
// feed and the bridge serving it, the page shows one row per symbol and the
// rows' values change. A screenshot is kept as a test artefact.
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/http_client/http_client.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/net.h"
#include "tests/support/process.h"
#include "tests/support/programs.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace physics {
namespace {

using testing::Process;
using testing::ProcessOptions;

constexpr const char* kEngine = PHYSICS_ENGINE_BIN;
constexpr const char* kBridge = PHYSICS_BRIDGE_BIN;
constexpr const char* kArtefacts = PHYSICS_TEST_ARTEFACTS_DIR;

// Chromium as the machine probe runs it: no sandbox (root), no background
// networking (the closed network refuses it), a fresh profile.
std::vector<std::string> Chromium(const std::string& profile, const std::string& url,
                                  std::vector<std::string> action) {
  std::vector<std::string> argv = {"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-quic", "--no-first-run",
                                   "--disable-background-networking", "--disable-component-update",
                                   "--disable-sync", "--user-data-dir=" + profile,
                                   "--window-size=1400,700", "--virtual-time-budget=3000"};
  argv.insert(argv.end(), action.begin(), action.end());
  argv.push_back(url);
  return argv;
}

// symbol -> seq, from the rows of a dumped dashboard DOM.
std::map<std::string, int64_t> Rows(const std::string& dom) {
  std::map<std::string, int64_t> rows;
  static const std::regex kRow(R"(<tr[^>]*>(.*?)</tr>)");
  static const std::regex kCell(R"(<td[^>]*>(.*?)</td>)");
  for (auto r = std::sregex_iterator(dom.begin(), dom.end(), kRow); r != std::sregex_iterator(); ++r) {
    const std::string row = (*r)[1];
    std::vector<std::string> cells;
    for (auto c = std::sregex_iterator(row.begin(), row.end(), kCell); c != std::sregex_iterator(); ++c) {
      cells.push_back((*c)[1]);
    }
    int64_t seq = 0;
    // Columns: symbol price trend regime alpha mass momentum friction entropy nash_dist seq ...
    if (cells.size() >= 11 && absl::SimpleAtoi(cells[10], &seq)) rows[cells[0]] = seq;
  }
  return rows;
}

class DashboardBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    absl::StatusOr<int> port = testing::PickUnusedLoopbackPort();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    engine_.emplace(testing::SpawnWithRedis(kEngine, redis_.url(), {"--hz", "5", "--symbols", "12"}).value());
    bridge_.emplace(
        testing::SpawnWithRedis(kBridge, redis_.url(), {"--listen", absl::StrCat("127.0.0.1:", port_)}).value());
    // Until the bridge serves SPY's state (its subscription and the engine's
    // first ticks are through; seconds under ASan).
    const http::Url spy{"127.0.0.1", std::to_string(port_), "/api/state/SPY"};
    const absl::StatusOr<http::Response> r = testing::EventuallyValue(
        [&] { return http::Get(spy, absl::Seconds(2)); },
        [](const http::Response& response) { return response.status == 200; }, absl::Seconds(30),
        absl::Milliseconds(100));
    ASSERT_TRUE(r.ok()) << "the bridge never served /api/state/SPY: " << r.status();
  }
  std::string Url() const { return absl::StrCat("http://127.0.0.1:", port_, "/"); }

  std::string DumpDom() {
    absl::StatusOr<Process> chromium = Process::Spawn(ProcessOptions{
        .argv = Chromium(profile_.path() + "/dom", Url(), {"--dump-dom"})});
    EXPECT_TRUE(chromium.ok()) << chromium.status() << " (is Debian's chromium installed?)";
    if (!chromium.ok()) return "";
    absl::StatusOr<testing::ExitStatus> st = chromium->Wait(absl::Seconds(60));
    EXPECT_TRUE(st.ok() && st->success()) << chromium->ReadStderr();
    return chromium->ReadStdout();
  }

  // The rows of the page, loaded again (at most 5 times) until all 12 show:
  // the page renders as its WebSocket's snapshot arrives, which a loaded
  // machine can push past one load's virtual-time budget.
  std::map<std::string, int64_t> AllRows() {
    std::map<std::string, int64_t> rows;
    for (int attempt = 0; attempt < 5 && rows.size() != 12; ++attempt) rows = Rows(DumpDom());
    return rows;
  }

  testing::RedisServer redis_;
  testing::TempDir profile_ = *testing::TempDir::Create("chromium-");
  int port_ = 0;
  std::optional<Process> engine_, bridge_;
};

TEST_F(DashboardBrowserTest, ShowsARowPerSymbolAndTheValuesChange) {
  const std::map<std::string, int64_t> first = AllRows();
  ASSERT_EQ(first.size(), 12u) << "rows seen: " << first.size();
  EXPECT_TRUE(first.count("SPY") && first.count("QQQ"));
  // Until the engine has stored a state two ticks newer of every symbol on
  // the page: the bridge has had the message of the first of them for a tick.
  const absl::Status newer = testing::Eventually([&] {
    for (const auto& [symbol, seq] : first) {
      if (testing::StateSeq(redis_, symbol) < seq + 2) return false;
    }
    return true;
  });
  ASSERT_TRUE(newer.ok()) << newer;
  const std::map<std::string, int64_t> second = AllRows();
  ASSERT_EQ(second.size(), 12u);
  for (const auto& [symbol, seq] : second) {
    EXPECT_GT(seq, first.at(symbol)) << symbol << " did not update";
  }
}

TEST_F(DashboardBrowserTest, KeepsAScreenshotAsATestArtefact) {
  const std::string png = std::string(kArtefacts) + "/dashboard.png";
  std::remove(png.c_str());
  absl::StatusOr<Process> chromium = Process::Spawn(ProcessOptions{
      .argv = Chromium(profile_.path() + "/shot", Url(), {"--screenshot=" + png})});
  ASSERT_TRUE(chromium.ok()) << chromium.status();
  absl::StatusOr<testing::ExitStatus> st = chromium->Wait(absl::Seconds(60));
  ASSERT_TRUE(st.ok() && st->success()) << chromium->ReadStderr();
  std::ifstream in(png, std::ios::binary | std::ios::ate);
  ASSERT_TRUE(in.good()) << png;
  EXPECT_GT(in.tellg(), 10'000) << "suspiciously small screenshot";
}

}  // namespace
}  // namespace physics
