// Every symbol the engine has seen: its window, the ticks folded since the
// last loop tick, and its latest state encoded for Redis (kept until written,
// so a Redis outage keeps exactly the latest state per symbol, docs/SPEC.md §7).
// Memory per symbol is allocated when the symbol first trades; a steady-state
// loop tick allocates nothing per symbol. Not thread-safe: owned by the tick
// thread.
#ifndef PHYSICS_ENGINE_LOOP_SYMBOL_BOOK_H_
#define PHYSICS_ENGINE_LOOP_SYMBOL_BOOK_H_

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "engine/feed/feed.h"
#include "engine/log/throttle.h"
#include "engine/physics/huge_page_memory.h"
#include "engine/physics/vector.h"
#include "engine/physics/window.h"
#include "engine/schema/state_message.h"
#include "engine/schema/timestamp.h"

namespace physics::loop {

// One symbol's state. Keys are namespaced once, at creation.
struct SymbolState {
  // The window's memory comes from `window_memory`, which must outlive it.
  SymbolState(std::string name, std::string key_prefix, size_t window_capacity,
              std::pmr::memory_resource* window_memory);

  std::string symbol;
  std::string state_key;     // [ns:]physics:state:SYM
  std::string snapshot_key;  // [ns:]market:snapshot:SYM
  // Their Redis Cluster key slots and the symbol's CRC16 (its partition is
  // this mod P, redis/partition.h), computed once rather than every tick.
  uint16_t state_slot;
  uint16_t snapshot_slot;
  uint16_t symbol_crc16;
  physics::Window window;

  // Fold of the ticks since the last loop tick (docs/SPEC.md §4).
  bool traded = false;
  double price = 0, volume = 0, trades = 0;
  schema::EpochMicros timestamp = 0;
  double bid = NAN, ask = NAN;  // last seen, kept across loop ticks

  // Latest computed state, encoded, until it has been written.
  int64_t seq = 0;
  bool unwritten = false;
  std::string state_json;
  std::string event_json;
  // The price's text inside state_json, which the snapshot repeats.
  schema::TextSpan price_text;
};

struct BookCounters {
  int64_t ticks_accepted = 0;
  int64_t ticks_rejected = 0;
  int64_t updates = 0;  // symbol updates computed
};

class SymbolBook final : public feed::TickSink {
 public:
  // `key_prefix` is "" or "ns:" (Config::Key's prefix).
  SymbolBook(size_t window_capacity, std::string key_prefix);

  void Accept(const schema::Tick& tick) override;
  void Reject(const feed::TickOrigin& origin, const absl::Status& why) override;

  // Closes the loop tick: each symbol that traded gets one observation, a new
  // vector, seq + 1 and freshly encoded state and event. Returns how many.
  // `progress`, when given, is called after every kProgressEvery symbols so
  // the writer can start sending while the rest are computed.
  static constexpr size_t kProgressEvery = 64;
  size_t CloseTick(absl::FunctionRef<void()> progress = [] {});

  // Symbols whose latest state has not been written yet, oldest first.
  const std::vector<SymbolState*>& unwritten() const { return unwritten_; }
  void MarkAllWritten();
  // Marks every unwritten symbol written except unwritten()[i] for i in
  // `kept` (indices into unwritten(), any order, duplicates allowed), which
  // stay unwritten, in their order. No allocation.
  void MarkWrittenExcept(std::span<const uint32_t> kept);
  // Marks `symbols` unwritten again (their write failed after they were
  // marked written), after the ones already unwritten; a symbol that is
  // unwritten already (computed anew since) keeps its place. No allocation.
  void MarkUnwritten(std::span<SymbolState* const> symbols);

  // Continues seq from another writer's: every symbol's seq becomes at least
  // its entry in `stored` (symbol -> seq found in Redis), now for the symbols
  // the book knows and on first trade for the others, so the next state
  // written is stored + 1 or later (a standby taking over, docs/SPEC.md §9).
  void RaiseSeqs(absl::flat_hash_map<std::string, int64_t> stored);

  size_t symbol_count() const { return symbols_.size(); }
  const SymbolState* Find(std::string_view symbol) const;
  const BookCounters& counters() const { return counters_; }

 private:
  void Encode(SymbolState& s, const physics::PhysicsVector& v);
  void LogRejection(const feed::TickOrigin& origin, const absl::Status& why);

  size_t window_capacity_;
  std::string key_prefix_;
  physics::Calculator calculator_;
  // Every window, on 2 MB pages (docs/engine.md, "Memory"); declared before
  // symbols_ so that it outlives them.
  physics::HugePageArena window_memory_;
  std::vector<std::unique_ptr<SymbolState>> symbols_;
  absl::flat_hash_map<std::string, SymbolState*> by_name_;
  std::vector<SymbolState*> traded_;     // symbols with ticks in this loop tick
  std::vector<SymbolState*> unwritten_;  // latest state not yet in Redis
  absl::flat_hash_map<std::string, int64_t> seq_floors_;  // for symbols not yet seen
  BookCounters counters_;
  // At most kRejectLogsPerSecond rejection lines a second.
  log::Throttle reject_log_;
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_SYMBOL_BOOK_H_
