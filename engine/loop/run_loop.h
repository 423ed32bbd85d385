// The engine's tick loop: poll the feed until the loop tick closes, fold and
// compute every symbol that traded, write them in one pipeline, repeat every
// 1/hz seconds (or per event-time bucket in csv and stream replay). Tells the
// feed when everything computed has been written (Feed::OnWritten), skips the
// writes of loop ticks a warm-starting feed replays (kReplayTick), and keeps
// the heartbeat going while a feed is idle. Logs a status line every 10 s.
// With a leader lease (StateWriter::lease_mode) a standby tries to take the
// lease before each loop tick closes, tells the feed when it has
// (Feed::Lead), and says in its status line whether it leads or stands by.
// Not thread-safe: runs on the calling (tick) thread.
#ifndef PHYSICS_ENGINE_LOOP_RUN_LOOP_H_
#define PHYSICS_ENGINE_LOOP_RUN_LOOP_H_

#include "engine/feed/feed.h"
#include "engine/loop/state_writer.h"
#include "engine/loop/symbol_book.h"
#include "engine/shutdown/shutdown_signal.h"

namespace physics::loop {

struct LoopOptions {
  double hz = 1;
  double duration_seconds = 0;  // 0: until the feed ends or a signal
  // How long to keep retrying Redis at exit when state is still unwritten.
  double final_flush_seconds = 5;
  // Lease mode with a feed that consumes its input and derives seq exactly
  // from it (stream: it follows while standing by, Feed::Lead() on takeover).
  // Then a takeover does not raise seqs from the stored states (unless
  // Feed::derives_seq() says the input is incomplete); the feed
  // re-confirms a lease it may have lost (after a stall) before taking input
  // (StateWriter::ConfirmLease), so it takes none once another engine leads;
  // and losing the lease
  // ends RunLoop with kLeaseLost. False (sim, pubsub, csv): a standby computes
  // like the leader and a takeover continues from the stored seqs.
  bool feed_continues_seq = false;
};

// RunLoop's result when feed_continues_seq is set and the lease was lost: the
// caller starts over as a standby with a new feed and book.
inline constexpr int kLeaseLost = -1;

// Runs until the feed ends, `shutdown` is requested, or the duration passes;
// the loop tick in flight is finished and flushed first. Returns the process
// exit code: 0 when everything computed was written, 1 when latest state was
// left unwritten or the feed failed, 2 when Redis refused our credentials,
// or kLeaseLost (above).
int RunLoop(feed::Feed& feed, SymbolBook& book, StateWriter& writer, const LoopOptions& options,
            shutdown::ShutdownSignal& shutdown);

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_RUN_LOOP_H_
