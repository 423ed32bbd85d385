// Dense ids for symbols, so per-client filters are bitsets and the latest
// message per symbol is a vector slot: one hash lookup per incoming message,
// then bit tests per client.
// Not thread-safe: owned by the io thread (the hub).
#ifndef PHYSICS_BRIDGE_SYMBOL_TABLE_H_
#define PHYSICS_BRIDGE_SYMBOL_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace physics::bridge {

using SymbolId = uint32_t;
inline constexpr SymbolId kNoSymbol = ~SymbolId{0};

class SymbolTable {
 public:
  // `capacity`: the most symbols ever interned; it bounds the memory that
  // clients naming made-up symbols can make the bridge use.
  explicit SymbolTable(size_t capacity) : capacity_(capacity) {}

  // The symbol's id, assigning the next one when new; kNoSymbol when the
  // table is full (or `symbol` is empty).
  SymbolId Intern(std::string_view symbol);
  // The id, or kNoSymbol when never interned.
  SymbolId Find(std::string_view symbol) const;
  size_t size() const { return names_.size(); }
  const std::string& name(SymbolId id) const { return names_[id]; }

 private:
  size_t capacity_;
  absl::flat_hash_map<std::string, SymbolId> ids_;
  std::vector<std::string> names_;
};

// A set of symbol ids; `all` matches every symbol, including messages that
// name none.
class SymbolSet {
 public:
  void SetAll() {
    all_ = true;
    bits_.clear();
  }
  void SetOnly(const std::vector<SymbolId>& ids);
  bool all() const { return all_; }
  bool Contains(SymbolId id) const {
    if (all_) return true;
    const size_t word = id / 64;
    return id != kNoSymbol && word < bits_.size() && ((bits_[word] >> (id % 64)) & 1) != 0;
  }

 private:
  bool all_ = true;
  std::vector<uint64_t> bits_;
};

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_SYMBOL_TABLE_H_
