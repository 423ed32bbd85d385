#include "tests/support/csv_replay.h"

#include "engine/feed/csv_feed.h"
#include "engine/loop/symbol_book.h"

namespace physics::testing {
namespace {

// A replay is never asked to stop and never waits.
struct Never : feed::Interrupt {
  bool requested() const override { return false; }
  bool WaitUntil(feed::SteadyTime) const override { return false; }
};

}  // namespace

absl::StatusOr<CsvReplay> ReplayCsvFile(const std::string& path, double hz) {
  absl::StatusOr<std::unique_ptr<feed::CsvFeed>> feed = feed::CsvFeed::Open(path, hz);
  if (!feed.ok()) return feed.status();
  CsvReplay replay;
  loop::SymbolBook book(1000, "");
  const Never never;
  for (;;) {
    absl::StatusOr<feed::PollResult> polled = (*feed)->Poll({}, book, never);
    if (!polled.ok()) return polled.status();
    if (*polled != feed::PollResult::kCloseTick) return replay;
    book.CloseTick();
    for (const loop::SymbolState* s : book.unwritten()) {
      replay.states[s->symbol] = s->state_json;
      replay.events.push_back(s->event_json);
    }
    book.MarkAllWritten();
  }
}

}  // namespace physics::testing
