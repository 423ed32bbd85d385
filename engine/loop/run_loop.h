// The engine's tick loop: poll the feed until the loop tick closes, fold and
// compute every symbol that traded, write them in one pipeline, repeat every
// 1/hz seconds (or per event-time bucket in csv and stream replay). Tells the
// feed when everything computed has been written (Feed::OnWritten), skips the
// writes of loop ticks a warm-starting feed replays (kReplayTick), and keeps
// the heartbeat going while a feed is idle. Logs a status line every 10 s.
// With a leader lease (Writer::lease_mode) a standby tries to take the
// lease before each loop tick closes, and says in its status line whether it
// leads or stands by.
// Not thread-safe: runs on the calling (tick) thread.
#ifndef PHYSICS_ENGINE_LOOP_RUN_LOOP_H_
#define PHYSICS_ENGINE_LOOP_RUN_LOOP_H_

#include "engine/feed/feed.h"
#include "engine/loop/writer.h"
#include "engine/loop/symbol_book.h"
#include "engine/shutdown/shutdown_signal.h"

namespace physics::loop {

struct LoopOptions {
  double hz = 1;
  double duration_seconds = 0;  // 0: until the feed ends or a signal
  // How long to keep retrying Redis at exit when state is still unwritten.
  double final_flush_seconds = 5;
  // Lease mode: whether a standby polls the feed and computes like the leader
  // (sim, pubsub, csv). False (stream) leaves the feed alone until the lease
  // is ours, then the feed's warm start catches up; losing the lease then
  // ends RunLoop with kLeaseLost.
  bool poll_feed_while_standby = true;
};

// RunLoop's result when poll_feed_while_standby is false and the lease was
// lost: the caller starts over as a standby with a new feed and book.
inline constexpr int kLeaseLost = -1;

// Runs until the feed ends, `shutdown` is requested, or the duration passes;
// the loop tick in flight is finished and flushed first. Returns the process
// exit code: 0 when everything computed was written, 1 when latest state was
// left unwritten or the feed failed, 2 when Redis refused our credentials,
// or kLeaseLost (above).
int RunLoop(feed::Feed& feed, SymbolBook& book, Writer& writer, const LoopOptions& options,
            shutdown::ShutdownSignal& shutdown);

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_RUN_LOOP_H_
