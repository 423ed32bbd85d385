// The commands that store one symbol's state and snapshot (docs/SPEC.md §2),
// shared by the standalone and the cluster writer so both send the same
// bytes. Views into the symbol and the caller's buffers: valid while they are
// unchanged. Thread-safe (pure).
//
//   SymbolCommands cmds(/*state_ttl_seconds=*/0, /*snapshot_ttl_seconds=*/60);
//   pipeline.Append(cmds.StateSet(s).view());
//   const SnapshotHSet hset(s);
//   pipeline.Append(hset.view());
//   pipeline.Append(cmds.SnapshotExpire(s));
#ifndef PHYSICS_ENGINE_LOOP_SYMBOL_COMMANDS_H_
#define PHYSICS_ENGINE_LOOP_SYMBOL_COMMANDS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/loop/symbol_book.h"
#include "engine/schema/json_writer.h"

namespace physics::loop {

// An argv of up to N arguments.
template <size_t N>
struct Argv {
  std::array<std::string_view, N> args;
  size_t count = 0;
  std::span<const std::string_view> view() const { return {args.data(), count}; }
};

// HSET [ns:]market:snapshot:{SYM} price P volume V bid B ask A timestamp T:
// P is the text of the price in the symbol's encoded state; the other numbers
// are formatted into this object, so it is neither copied nor moved.
// REQUIRES: `s` has been encoded (SymbolBook::CloseTick).
class SnapshotHSet {
 public:
  explicit SnapshotHSet(const SymbolState& s);
  SnapshotHSet(const SnapshotHSet&) = delete;
  SnapshotHSet& operator=(const SnapshotHSet&) = delete;
  std::span<const std::string_view> view() const { return argv_; }

 private:
  char volume_[schema::kJsonNumberBufferSize];
  char bid_[schema::kJsonNumberBufferSize], ask_[schema::kJsonNumberBufferSize];
  char seconds_[schema::kJsonNumberBufferSize];
  std::array<std::string_view, 12> argv_;
};

class SymbolCommands {
 public:
  SymbolCommands(int64_t state_ttl_seconds, int64_t snapshot_ttl_seconds);

  // SET [ns:]physics:state:{SYM} <state JSON> [EX ttl]
  Argv<5> StateSet(const SymbolState& s) const;
  // EXPIRE [ns:]market:snapshot:{SYM} ttl
  std::array<std::string_view, 3> SnapshotExpire(const SymbolState& s) const {
    return {"EXPIRE", s.snapshot_key, snapshot_ttl_text_};
  }

 private:
  std::string state_ttl_text_;  // "" when the state has no TTL
  std::string snapshot_ttl_text_;
};

}  // namespace physics::loop

#endif  // PHYSICS_ENGINE_LOOP_SYMBOL_COMMANDS_H_
