#include "bridge/symbol_table.h"

#include "engine/redis/internal/string_view.h"

namespace physics::bridge {

using redis::internal::ToAbsl;

SymbolId SymbolTable::Intern(std::string_view symbol) {
  if (symbol.empty()) return kNoSymbol;
  if (auto it = ids_.find(ToAbsl(symbol)); it != ids_.end()) return it->second;
  if (names_.size() >= capacity_) return kNoSymbol;
  const auto id = static_cast<SymbolId>(names_.size());
  names_.emplace_back(symbol);
  ids_.emplace(std::string(symbol), id);
  return id;
}

SymbolId SymbolTable::Find(std::string_view symbol) const {
  auto it = ids_.find(ToAbsl(symbol));
  return it == ids_.end() ? kNoSymbol : it->second;
}

void SymbolSet::SetOnly(const std::vector<SymbolId>& ids) {
  all_ = false;
  bits_.clear();
  for (const SymbolId id : ids) {
    if (id == kNoSymbol) continue;
    const size_t word = id / 64;
    if (word >= bits_.size()) bits_.resize(word + 1, 0);
    bits_[word] |= uint64_t{1} << (id % 64);
  }
}

}  // namespace physics::bridge
