#include "engine/loop/run_loop.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/log/log.h"

namespace physics::loop {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStatusEvery = std::chrono::seconds(10);

// Loop-tick durations (fold + compute + write) over one status period.
class TickTimes {
 public:
  TickTimes() { micros_.reserve(1 << 16); }
  void Add(Clock::duration d) {
    if (micros_.size() < micros_.capacity()) {
      micros_.push_back(std::chrono::duration<double, std::micro>(d).count());
    }
  }
  std::string SummaryAndReset() {
    if (micros_.empty()) return "no loop ticks";
    std::sort(micros_.begin(), micros_.end());
    const auto at = [&](double q) { return micros_[static_cast<size_t>(q * (micros_.size() - 1))] / 1000; };
    std::string s = absl::StrFormat("tick ms p50 %.3f p99 %.3f max %.3f", at(0.5), at(0.99), at(1.0));
    micros_.clear();
    return s;
  }

 private:
  std::vector<double> micros_;
};

}  // namespace

int RunLoop(feed::Feed& feed, SymbolBook& book, Writer& writer, const LoopOptions& options,
            shutdown::ShutdownSignal& shutdown) {
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / options.hz));
  const auto start = Clock::now();
  const auto stop_at = options.duration_seconds > 0
                           ? start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(options.duration_seconds))
                           : Clock::time_point::max();
  auto deadline = start + period;
  auto next_status = start + kStatusEvery;
  TickTimes times;
  int64_t loop_ticks = 0, overruns = 0, last_updates = 0;
  int exit_code = 0;

  // Writes what is unwritten (and the heartbeat when due); once nothing is
  // left unwritten the feed may acknowledge what it delivered. False when
  // Redis refused our credentials.
  const auto flush = [&]() -> bool {
    absl::Status s = writer.Flush(book);
    if (IsConfigurationError(s)) {
      log::Error(absl::StrCat("Redis refused us, retrying cannot help: ", s.message()));
      return false;
    }
    // A standby's states were dropped, not written: nothing to acknowledge.
    if (s.ok() && book.unwritten().empty() && writer.leading()) feed.OnWritten();
    return true;
  };

  while (true) {
    const bool was_leading = writer.leading();
    absl::StatusOr<feed::PollResult> polled = feed.Poll(deadline, book, shutdown);
    if (!polled.ok()) {
      log::Error(absl::StrCat("feed failed: ", polled.status().message()));
      exit_code = IsAuthError(polled.status()) ? 2 : 1;
      break;
    }
    if (*polled == feed::PollResult::kEnd) break;
    if (!was_leading && writer.TryLead(options.feed_continues_seq && feed.derives_seq() ? nullptr : &book)) {
      feed.Lead([&writer] { return writer.ConfirmLease(); });
    }
    const auto tick_start = Clock::now();
    if (*polled == feed::PollResult::kReplayTick && book.unwritten().empty()) {
      // Warm start: an earlier run wrote (and published) this loop tick.
      book.CloseTick();
      book.MarkAllWritten();
    } else if (*polled != feed::PollResult::kIdle) {
      book.CloseTick([&] { writer.Stream(book); });
    }
    if (!flush()) return 2;
    if (was_leading && !writer.leading() && options.feed_continues_seq) return kLeaseLost;
    const auto now = Clock::now();
    if (*polled == feed::PollResult::kCloseTick) {
      times.Add(now - tick_start);
      ++loop_ticks;
    }

    if (shutdown.requested() || now >= stop_at) break;
    if (!feed.event_time()) {
      deadline += period;
      if (deadline < now) {  // fell behind: skip the missed ticks, don't burst,
        ++overruns;          // and don't idle either: the next one closes at once
        deadline = now;
      }
    } else {
      deadline = now + period;  // when a live event-time feed may report kIdle
    }
    if (now >= next_status) {
      next_status = now + kStatusEvery;
      const BookCounters& c = book.counters();
      log::Info(absl::StrCat(loop_ticks, " loop ticks, ", book.symbol_count(), " symbols, ",
                                c.updates - last_updates, " updates, ", c.ticks_rejected,
                                " ticks rejected, ", overruns, " overruns, ",
                                times.SummaryAndReset(), ", redis ",
                                writer.connected() ? "connected" : "DOWN",
                                !writer.lease_mode() ? ""
                                : writer.leading()   ? ", leading"
                                                     : ", standing by"));
      last_updates = c.updates;
    }
  }

  // Flush what the last loop tick left, retrying Redis for a bounded time;
  // first read the replies the last Flush left owed (a failure there makes
  // its symbols unwritten again).
  writer.Settle(book).IgnoreError();
  const auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.final_flush_seconds));
  while (!book.unwritten().empty()) {
    absl::Status s = writer.Flush(book);
    if (s.ok()) s = writer.Settle(book);
    if (IsConfigurationError(s)) return 2;
    if (s.ok()) feed.OnWritten();
    if (s.ok() || Clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  writer.ReleaseLease();
  writer.RemoveHeartbeat();
  if (!book.unwritten().empty()) {
    log::Error(absl::StrCat("exiting with the latest state of ", book.unwritten().size(),
                               " symbols unwritten: Redis unavailable"));
    exit_code = 1;
  }
  const BookCounters& c = book.counters();
  log::Info(absl::StrCat("stopped after ", loop_ticks, " loop ticks: ", c.updates,
                            " symbol updates, ", c.ticks_accepted, " ticks accepted, ",
                            c.ticks_rejected, " rejected, ", times.SummaryAndReset()));
  return exit_code;
}

}  // namespace physics::loop
