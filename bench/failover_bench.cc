// A Sentinel failover under load, measured: a master, two replicas and three
// sentinels (tests/support/sentinel_set.h), physics-engine (sim feed) and
// physics-bridge with K WebSocket clients on the sentinels' URL; then the
// master is SIGKILLed. Per run it reports
//  - the write outage: the last state_update published on the old master to
//    the first one published on the new master (a subscriber on every data
//    node; "on the new master" = a seq above the last one the old master saw);
//  - the time from the sentinels' +switch-master (this program subscribes to
//    one sentinel) to that first write (negative: the engine found the new
//    master before the announcement reached us);
//  - WebSocket clients dropped by the bridge;
//  - the re-send delay: per symbol, from its first state on the new master to
//    the moment every client has it (or a later one); the worst symbol.
// Each figure is printed beside its target, per run and as median/min/max.
//
//   build/bin/failover_bench                       # 3 runs, 100 symbols x 10 Hz, 10 clients
//   build/bin/failover_bench --runs 5 --json bench/results/failover.json
//   build/bin/failover_bench --scenario standby    # a standby engine, stream feed
// The standby scenario is in failover_standby.h.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/failover_recorders.h"
#include "bench/failover_standby.h"
#include "bench/results_json.h"
#include "bridge/testing/ws_test_client.h"
#include "engine/cli/flags.h"
#include "engine/redis/connection.h"
#include "simdjson.h"
#include "tests/support/programs.h"
#include "tests/support/sentinel_set.h"

namespace physics::bench {
namespace {

using bridge::testing::HttpRequest;
using bridge::testing::WsTestClient;

constexpr double kTargetOutageMs = 3000;
constexpr double kTargetSwitchToWriteMs = 250;
constexpr double kTargetResendMs = 500;

// One WebSocket client of the bridge, subscribed to state_update.
class ClientRecorder : public Recorder {
 public:
  explicit ClientRecorder(WsTestClient ws) : ws_(std::move(ws)) { Begin(); }
  ~ClientRecorder() override { Stop(); }

 private:
  void Loop() override {
    simdjson::ondemand::parser parser;
    while (!stop_.load()) {
      absl::StatusOr<std::string> text = ws_.ReadText(absl::Milliseconds(50));
      if (absl::IsDeadlineExceeded(text.status())) continue;
      if (!text.ok()) {
        ended_.store(true);
        return;
      }
      Seen s;
      s.ns = absl::GetCurrentTimeNanos();
      if (ParseEvent(parser, *text, true, s)) Note(std::move(s));
    }
  }

  WsTestClient ws_;
};

struct RunOptions {
  int symbols = 100;
  double hz = 10;
  int clients = 10;
  std::string engine_bin, bridge_bin;
};

struct RunFigures {
  double outage_ms = 0;
  double switch_to_write_ms = 0;
  int dropped = 0;
  double resend_max_ms = 0;
  int missing = 0;  // (symbol, client) pairs that never got the new master's state
};

absl::StatusOr<int> StartBridge(testing::Process& bridge) {
  constexpr std::string_view kListening = "listening on http://127.0.0.1:";
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int port = 0;
  while (absl::Now() < deadline) {
    const std::string log = bridge.ReadStderr();
    if (port == 0) {
      if (size_t at = log.find(kListening); at != std::string::npos) {
        port = std::atoi(log.c_str() + at + kListening.size());
      }
    } else if (absl::StatusOr<bridge::testing::HttpResponse> h = HttpRequest(port, "GET", "/healthz");
               h.ok() && h->status == 200) {
      return port;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("bridge not healthy: ", bridge.ReadStderr()));
}

// Per symbol: the first state on the new master (time, seq): the first event
// the new node published with a seq above the last one the old node published.
absl::flat_hash_map<std::string, Seen> FirstOnNewMaster(const std::vector<Seen>& old_node,
                                                        const std::vector<Seen>& new_node) {
  absl::flat_hash_map<std::string, int64_t> old_max;
  for (const Seen& s : old_node) old_max[s.symbol] = std::max(old_max[s.symbol], s.seq);
  absl::flat_hash_map<std::string, Seen> first;
  for (const Seen& s : new_node) {
    if (s.seq > old_max[s.symbol] && !first.contains(s.symbol)) first[s.symbol] = s;
  }
  return first;
}

absl::StatusOr<RunFigures> RunOnce(const RunOptions& opt) {
  testing::SentinelSet set;
  if (absl::Status s = set.Start(); !s.ok()) return s;
  absl::StatusOr<testing::Process> engine = testing::SpawnWithRedis(
      opt.engine_bin, set.url(), {"--hz", absl::StrCat(opt.hz), "--symbols", absl::StrCat(opt.symbols)});
  if (!engine.ok()) return engine.status();
  absl::StatusOr<testing::Process> bridge =
      testing::SpawnWithRedis(opt.bridge_bin, set.url(), {"--listen", "127.0.0.1:0"});
  if (!bridge.ok()) return bridge.status();
  absl::StatusOr<int> port = StartBridge(*bridge);
  if (!port.ok()) return port.status();

  std::vector<std::unique_ptr<ChannelRecorder>> nodes;
  for (size_t i = 0; i < set.node_count(); ++i) {
    nodes.push_back(std::make_unique<ChannelRecorder>(set.node(i).config(), "state_update"));
  }
  ChannelRecorder switches(set.sentinel(0).config(), "+switch-master");
  std::vector<std::unique_ptr<ClientRecorder>> clients;
  for (int i = 0; i < opt.clients; ++i) {
    absl::StatusOr<WsTestClient> ws = WsTestClient::Connect(*port);
    if (!ws.ok()) return ws.status();
    if (absl::Status s = ws->SendText(R"({"type":"subscribe","channel":"state_update"})"); !s.ok()) return s;
    clients.push_back(std::make_unique<ClientRecorder>(*std::move(ws)));
  }
  absl::SleepFor(absl::Seconds(2));  // steady state before the fault

  const int old_port = set.node(0).port();
  set.node(0).Kill();
  absl::StatusOr<int> new_port = set.WaitForNewMaster(old_port, absl::Seconds(30));
  if (!new_port.ok()) return new_port.status();
  size_t promoted = 0;
  while (set.node(promoted).port() != *new_port) ++promoted;
  // Long enough for the engine's and the bridge's reconnects, and for the
  // sentinels' announcement to reach every listener.
  absl::SleepFor(absl::Seconds(3));
  for (auto& c : clients) c->Stop();
  for (auto& n : nodes) n->Stop();
  switches.Stop();
  engine->Terminate(absl::Seconds(2));
  bridge->Terminate(absl::Seconds(2));

  const std::vector<Seen>& old_seen = nodes[0]->seen();
  if (old_seen.empty()) return absl::InternalError("no writes on the old master before the kill");
  const absl::flat_hash_map<std::string, Seen> first = FirstOnNewMaster(old_seen, nodes[promoted]->seen());
  if (first.empty()) return absl::InternalError("no writes on the new master");
  int64_t first_write = std::numeric_limits<int64_t>::max();
  for (const auto& [symbol, s] : first) first_write = std::min(first_write, s.ns);
  int64_t last_old = 0;
  for (const Seen& s : old_seen) last_old = std::max(last_old, s.ns);

  RunFigures f;
  f.outage_ms = static_cast<double>(first_write - last_old) / 1e6;
  f.switch_to_write_ms = switches.seen().empty()
                             ? std::numeric_limits<double>::quiet_NaN()
                             : static_cast<double>(first_write - switches.seen().front().ns) / 1e6;
  for (const auto& c : clients) f.dropped += c->ended() ? 1 : 0;
  for (const auto& [symbol, on_master] : first) {
    for (const auto& c : clients) {
      const auto got = std::find_if(c->seen().begin(), c->seen().end(), [&](const Seen& s) {
        return s.symbol == symbol && s.seq >= on_master.seq;
      });
      if (got == c->seen().end()) {
        ++f.missing;
      } else {
        f.resend_max_ms = std::max(f.resend_max_ms, static_cast<double>(got->ns - on_master.ns) / 1e6);
      }
    }
  }
  f.missing += static_cast<int>((opt.symbols - static_cast<int>(first.size())) * opt.clients);
  return f;
}

std::string Dir(const char* argv0) {
  std::string self = argv0;
  const size_t slash = self.rfind('/');
  return slash == std::string::npos ? "." : self.substr(0, slash);
}

std::string Row(std::string_view label, const RunFigures& f) {
  return absl::StrFormat("| %s | %.0f | %.0f | %d | %.0f | %d |\n", label, f.outage_ms,
                         f.switch_to_write_ms, f.dropped, f.resend_max_ms, f.missing);
}

// Median, min and max of each figure over the runs.
std::vector<std::pair<std::string, RunFigures>> Summary(const std::vector<RunFigures>& runs) {
  std::vector<std::pair<std::string, RunFigures>> rows = {{"median", {}}, {"min", {}}, {"max", {}}};
  const auto fill = [&](auto field) {
    std::vector<double> v;
    for (const RunFigures& r : runs) v.push_back(static_cast<double>(r.*field));
    std::sort(v.begin(), v.end());
    using T = std::remove_reference_t<decltype(runs[0].*field)>;
    rows[0].second.*field = static_cast<T>(v[v.size() / 2]);
    rows[1].second.*field = static_cast<T>(v.front());
    rows[2].second.*field = static_cast<T>(v.back());
  };
  fill(&RunFigures::outage_ms);
  fill(&RunFigures::switch_to_write_ms);
  fill(&RunFigures::dropped);
  fill(&RunFigures::resend_max_ms);
  fill(&RunFigures::missing);
  return rows;
}

JsonObject ToJson(const RunFigures& f) {
  return JsonObject()
      .Number("write_outage_ms", f.outage_ms)
      .Number("switch_to_first_write_ms", f.switch_to_write_ms)
      .Int("clients_dropped", f.dropped)
      .Number("resend_max_ms", f.resend_max_ms)
      .Int("resend_missing", f.missing);
}

int Main(int argc, char** argv) {
  int64_t runs = 3, symbols = 0, clients = 10, backlog = 200'000, live_rate = 2'000;
  double hz = 10, lease = 2;
  std::string json_path, scenario = "sentinel", feed = "stream", engine_bin;
  cli::FlagSet flags("failover_bench",
                     "sentinel: SIGKILLs the Sentinel master under the engine (sim feed) and the "
                     "bridge with WebSocket clients; reports the write outage, +switch-master to "
                     "the first write, clients dropped and the re-send delay to the clients.\n"
                     "standby: SIGKILLs the leader of two engines with --leader-lease on one "
                     "redis-server; reports kill -> lease taken -> the standby's first write.");
  flags.AddChecked("scenario", &scenario, "sentinel or standby", [](std::string_view v) {
    return v == "sentinel" || v == "standby" ? absl::OkStatus()
                                             : absl::InvalidArgumentError("expected sentinel or standby");
  });
  flags.AddInt("runs", &runs, 1, 100, "failovers to measure, each on a fresh set of servers");
  flags.AddInt("symbols", &symbols, 0, 10000,
               "symbols of the engine's feed; 0: 100 (sentinel), 20 (standby)");
  flags.AddDouble("hz", &hz, 0.1, 1000, "the engine's loop ticks per second");
  flags.AddInt("clients", &clients, 1, 1000, "sentinel: WebSocket clients of the bridge");
  flags.AddChecked("feed", &feed, "standby: stream or sim", [](std::string_view v) {
    return v == "stream" || v == "sim" ? absl::OkStatus()
                                       : absl::InvalidArgumentError("expected stream or sim");
  });
  flags.AddDouble("lease", &lease, 0.1, 60, "standby: --leader-lease of both engines, seconds");
  flags.AddInt("backlog", &backlog, 0, 100'000'000, "standby, stream: entries in the stream before the engines start");
  flags.AddInt("live-rate", &live_rate, 1, 1'000'000, "standby, stream: entries XADDed per second during the run");
  flags.AddString("engine", &engine_bin,
                  "standby: the physics-engine binary (default: the one beside this program), "
                  "e.g. another build to compare");
  flags.AddString("json", &json_path, "write results to this file");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  const std::string dir = Dir(argv[0]);
  if (scenario == "standby") {
    return RunStandbyScenario(
        StandbyOptions{.engine_bin = engine_bin.empty() ? dir + "/physics-engine" : engine_bin,
                       .feed = feed,
                       .lease_seconds = lease,
                       .hz = hz,
                       .symbols = symbols == 0 ? 20 : static_cast<int>(symbols),
                       .backlog = backlog,
                       .live_rate = live_rate},
        runs, json_path);
  }
  if (symbols == 0) symbols = 100;
  const RunOptions opt{.symbols = static_cast<int>(symbols),
                       .hz = hz,
                       .clients = static_cast<int>(clients),
                       .engine_bin = dir + "/physics-engine",
                       .bridge_bin = dir + "/physics-bridge"};
  std::optional<std::vector<RunFigures>> all = RunRepeatedly<RunFigures>(runs, [&] { return RunOnce(opt); });
  if (!all) return 1;
  const std::vector<RunFigures>& results = *all;

  std::cout << absl::StrFormat(
      "\nSentinel failover (master SIGKILLed; down-after 1 s): engine sim %d symbols x %g Hz, "
      "bridge with %d WebSocket clients\n"
      "| run | write outage ms | +switch-master -> first write ms | clients dropped | "
      "re-send to every client, worst symbol ms | (symbol, client) never re-sent |\n"
      "|---|---:|---:|---:|---:|---:|\n",
      opt.symbols, opt.hz, opt.clients);
  std::vector<JsonObject> rows;
  for (size_t i = 0; i < results.size(); ++i) {
    std::cout << Row(absl::StrCat(i + 1), results[i]);
    rows.push_back(ToJson(results[i]));
  }
  JsonObject summary;
  for (const auto& [label, f] : Summary(results)) {
    std::cout << Row(label, f);
    summary.Object(label, ToJson(f));
  }
  std::cout << absl::StrFormat("| target | <= %.0f | <= %.0f | 0 | <= %.0f | 0 |\n", kTargetOutageMs,
                               kTargetSwitchToWriteMs, kTargetResendMs);
  return WriteResults("failover_bench", json_path,
                      JsonObject()
                          .String("benchmark", "failover")
                          .Int("symbols", opt.symbols)
                          .Number("hz", opt.hz)
                          .Int("clients", opt.clients)
                          .Array("runs", rows)
                          .Object("summary", summary));
}

}  // namespace
}  // namespace physics::bench

int main(int argc, char** argv) { return physics::bench::Main(argc, argv); }
