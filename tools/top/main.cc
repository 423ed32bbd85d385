// physics-top: a live terminal view of the physics state for analysts, like
// top(1): one row per symbol (price, every field of the vector, regime, age
// of the last update, updates per second), sortable, filterable, fitted to
// the terminal width. Keys are listed on the bottom line; see
// docs/operations.md and --help.
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/cli/flags.h"
#include "engine/cli/redis_flags.h"
#include "engine/redis/partition.h"
#include "tools/top/screen.h"
#include "tools/top/state_source.h"
#include "tools/top/symbol_table.h"
#include "tools/top/terminal.h"
#include "tools/top/view_state.h"

namespace physics::top {
namespace {

constexpr std::string_view kProgram = "physics-top";
// Redraws at most this often while updates stream in; keys redraw at once.
constexpr absl::Duration kMinFrameInterval = absl::Milliseconds(100);

int RemainingMs(absl::Time deadline, absl::Time now) {
  if (deadline <= now) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(deadline - now) + 1, 60'000));
}

ScreenModel Model(const std::string& target, const std::string& status, const std::vector<const Row*>& rows,
                  const SymbolTable& table, const ViewState& view, TerminalSize size, bool color) {
  ScreenModel m;
  m.target = target;
  m.status = status;
  m.rows = rows;
  m.total_symbols = table.size();
  m.sort = view.sort;
  m.descending = view.descending;
  m.filter = view.filter;
  m.editing_filter = view.editing_filter;
  m.now = absl::Now();
  m.columns = size.columns;
  m.rows_on_screen = size.rows;
  m.color = color;
  return m;
}

// --once: prime from Redis, print one screen without colours, exit.
int PrintOnce(StateSource& source, SymbolTable& table, const ViewState& view, const std::string& target,
              int width, int height) {
  source.Poll(absl::Now());
  if (!source.connected()) {
    std::cerr << kProgram << ": " << source.status() << "\n";
    return 1;
  }
  const std::vector<const Row*> rows = table.View(view.filter, view.sort, view.descending);
  std::string screen = RenderScreen(Model(target, source.status(), rows, table, view, {width, height}, false));
  // Plain lines for a file or pipe: drop the cursor and clearing escapes.
  for (std::string_view esc : {"\x1b[H", "\x1b[K", "\x1b[J"}) {
    for (size_t at; (at = screen.find(esc)) != std::string::npos;) screen.erase(at, esc.size());
  }
  for (size_t at; (at = screen.find('\r')) != std::string::npos;) screen.erase(at, 1);
  std::cout << screen << "\n";
  return 0;
}

int RunInteractive(StateSource& source, SymbolTable& table, ViewState& view, const std::string& target,
                   absl::Duration refresh) {
  SignalPipe signals;
  absl::StatusOr<RawTerminal> term = RawTerminal::Enter(STDIN_FILENO);
  if (!term.ok()) {
    std::cerr << kProgram << ": " << term.status().message() << "\n";
    return 1;
  }
  const bool color = std::getenv("NO_COLOR") == nullptr;
  absl::Time last_frame = absl::InfinitePast(), last_sample = absl::Now();
  bool dirty = true, urgent = true;
  while (!view.quit) {
    absl::Time now = absl::Now();
    dirty |= source.Poll(now);
    if (now - last_sample >= refresh) {
      table.SampleRates(absl::ToDoubleSeconds(now - last_sample));
      last_sample = now;
      dirty = urgent = true;  // ages and rates moved
    }
    if (dirty && (urgent || now - last_frame >= kMinFrameInterval)) {
      const std::vector<const Row*> rows = table.View(view.filter, view.sort, view.descending);
      term->Write(RenderScreen(Model(target, source.status(), rows, table, view, term->Size(), color)));
      last_frame = now;
      dirty = urgent = false;
    }

    std::vector<pollfd> fds = {{STDIN_FILENO, POLLIN, 0}, {signals.fd(), POLLIN, 0}};
    for (int fd : source.fds()) fds.push_back({fd, POLLIN, 0});
    absl::Time wake = std::min(last_sample + refresh, source.next_attempt());
    if (dirty) wake = std::min(wake, last_frame + kMinFrameInterval);
    if (poll(fds.data(), fds.size(), RemainingMs(wake, now)) < 0 && errno != EINTR) break;

    if (fds[1].revents & POLLIN) {
      for (int sig : signals.Drain()) {
        if (sig == SIGWINCH) {
          dirty = urgent = true;
        } else {
          view.quit = true;  // SIGINT, SIGTERM, SIGHUP: leave, restoring the terminal
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      char buf[256];
      const ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
      if (n == 0) view.quit = true;  // the terminal is gone
      if (n > 0 && view.HandleInput(std::string_view(buf, static_cast<size_t>(n)))) dirty = urgent = true;
    } else if (fds[0].revents & (POLLHUP | POLLERR)) {
      view.quit = true;
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string redis_url, key_namespace, sort = "symbol", filter;
  double refresh_seconds = 1;
  bool once = false;
  int64_t width = 0, height = 0, partitions = redis::kDefaultPartitions;

  cli::FlagSet flags(std::string(kProgram),
                     absl::StrCat("A live view of physics:state for analysts, like top: one row per symbol with its\n"
                                  "price, every field of the vector, the regime (coloured), the age of the last update\n"
                                  "and updates per second. Reads physics:state:* at start, then SUBSCRIBE state_update (on a\n"
                                  "redis-cluster:// URL: SSUBSCRIBE to the partition channels on every master).\n"
                                  "Keys: q quit; s symbol, $ price, m mass, p momentum, f friction, e entropy,\n"
                                  "n nash_dist, a alpha, t age, u updates/s sort (again: reverse); r reverse;\n"
                                  "/ filter by symbol (Enter keeps it, Esc clears it).",
                                  cli::kRedisEnvironmentHelp));
  cli::AddRedisFlags(flags, &redis_url, &key_namespace);
  flags.AddChecked("sort", &sort,
                   "initial sort: symbol, price, mass, momentum, friction, entropy, nash_dist, alpha, age, rate",
                   [](std::string_view v) {
                     return SortKeyFromName(v) ? absl::OkStatus()
                                               : absl::InvalidArgumentError(
                                                     "expected symbol, price, mass, momentum, friction, entropy, "
                                                     "nash_dist, alpha, age or rate");
                   });
  flags.AddString("filter", &filter, "initial symbol filter (a substring, case-insensitive)");
  flags.AddDouble("refresh", &refresh_seconds, 0.1, 60, "seconds between redraws of ages and rates");
  flags.AddBool("once", &once, "print one screen (no colours) to stdout and exit, e.g. for scripts");
  flags.AddInt("width", &width, 0, 1000, "--once: screen width; 0 = the terminal's, else 80");
  flags.AddInt("height", &height, 0, 100000, "--once: screen height; 0 = the terminal's, else 24");
  flags.AddInt("partitions", &partitions, 1, redis::kMaxPartitions,
               "redis-cluster:// only: the deployment's partitions (docs/SPEC.md §9), whose sharded channels "
               "state_update:{tag} are followed; the engine's --partitions");
  if (std::optional<int> code = flags.Parse(argc, argv)) return *code;

  absl::StatusOr<redis::Config> config = cli::ResolveRedisConfig(flags, redis_url, key_namespace);
  if (!config.ok()) return flags.UsageError(config.status());
  ViewState view;
  view.sort = *SortKeyFromName(sort);
  view.descending = DefaultDescending(view.sort);
  view.HandleInput(absl::StrCat("/", filter, "\r"));

  SymbolTable table;
  StateSource source(*config, table, static_cast<int>(partitions));
  const std::string target = cli::DescribeTarget(*config);
  if (once) {
    winsize ws{};
    const bool tty = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0;
    return PrintOnce(source, table, view, target, width > 0 ? static_cast<int>(width) : tty ? ws.ws_col : 80,
                     height > 0 ? static_cast<int>(height) : tty ? ws.ws_row : 24);
  }
  return RunInteractive(source, table, view, target, absl::Seconds(refresh_seconds));
}

}  // namespace
}  // namespace physics::top

int main(int argc, char** argv) { return physics::top::Main(argc, argv); }
