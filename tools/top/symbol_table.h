// physics-top's model: the latest state per symbol (primed from
// physics:state:*, then kept current by state_update), how many updates per
// second each symbol gets, and the sorted, filtered view the screen shows.
// Not thread-safe: owned by physics-top's single thread.
#ifndef PHYSICS_TOOLS_TOP_SYMBOL_TABLE_H_
#define PHYSICS_TOOLS_TOP_SYMBOL_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/schema/state_message.h"

namespace physics::top {

struct Row {
  std::string symbol;
  schema::StateFields state;
  uint64_t updates = 0;            // state_update messages applied
  uint64_t updates_at_sample = 0;  // `updates` at the last SampleRates()
  double rate = 0;                 // updates per second over the last sample
};

// What the rows can be ordered by; each has a key on the keyboard.
enum class SortKey { kSymbol, kPrice, kMass, kMomentum, kFriction, kEntropy, kNashDist, kAlpha, kAge, kRate };

// The key that selects a sort ('s', '$', 'm', 'p', 'f', 'e', 'n', 'a', 't',
// 'u'), or nullopt.
std::optional<SortKey> SortKeyForChar(char c);
// "symbol", "price", "mass", ...; also what --sort accepts.
std::string_view SortKeyName(SortKey key);
std::optional<SortKey> SortKeyFromName(std::string_view name);
// Symbols read best A→Z; numbers largest first.
bool DefaultDescending(SortKey key);

class SymbolTable {
 public:
  // Stores `state` for `symbol` unless it is older than what is held (a lower
  // seq with an older timestamp: e.g. a stored state read after a newer
  // message). A restarted engine counts seq from 1 again but with newer
  // timestamps, so it is taken. `is_update`: count it towards the rate (a
  // state_update message, not a primed value). Returns whether it was stored.
  bool Apply(std::string_view symbol, const schema::StateFields& state, bool is_update);

  // Turns the updates counted since the last call into per-second rates.
  void SampleRates(double elapsed_seconds);

  // The rows whose symbol contains `filter` (already upper case; "" = all),
  // ordered by `key`. Pointers are valid until the next Apply().
  std::vector<const Row*> View(std::string_view filter, SortKey key, bool descending) const;

  size_t size() const { return rows_.size(); }

 private:
  absl::flat_hash_map<std::string, Row> rows_;
};

}  // namespace physics::top

#endif  // PHYSICS_TOOLS_TOP_SYMBOL_TABLE_H_
