#include "tools/top/symbol_table.h"

#include <algorithm>
#include <array>
#include <utility>

namespace physics::top {
namespace {

struct SortKeyInfo {
  SortKey key;
  char shortcut;
  std::string_view name;
};

constexpr std::array<SortKeyInfo, 10> kSortKeys = {{
    {SortKey::kSymbol, 's', "symbol"},     {SortKey::kPrice, '$', "price"},
    {SortKey::kMass, 'm', "mass"},         {SortKey::kMomentum, 'p', "momentum"},
    {SortKey::kFriction, 'f', "friction"}, {SortKey::kEntropy, 'e', "entropy"},
    {SortKey::kNashDist, 'n', "nash_dist"}, {SortKey::kAlpha, 'a', "alpha"},
    {SortKey::kAge, 't', "age"},           {SortKey::kRate, 'u', "rate"},
}};

// The value a row is sorted by. Age sorts by timestamp (older = larger age).
double SortValue(const Row& r, SortKey key) {
  const schema::StateFields& s = r.state;
  switch (key) {
    case SortKey::kSymbol: return 0;
    case SortKey::kPrice: return s.price;
    case SortKey::kMass: return s.mass;
    case SortKey::kMomentum: return s.momentum;
    case SortKey::kFriction: return s.friction;
    case SortKey::kEntropy: return s.entropy;
    case SortKey::kNashDist: return s.nash_dist;
    case SortKey::kAlpha: return s.alpha;
    case SortKey::kAge: return -static_cast<double>(s.timestamp);
    case SortKey::kRate: return r.rate;
  }
  return 0;
}

}  // namespace

std::optional<SortKey> SortKeyForChar(char c) {
  for (const SortKeyInfo& k : kSortKeys) {
    if (k.shortcut == c) return k.key;
  }
  return std::nullopt;
}

std::string_view SortKeyName(SortKey key) {
  for (const SortKeyInfo& k : kSortKeys) {
    if (k.key == key) return k.name;
  }
  return "?";
}

std::optional<SortKey> SortKeyFromName(std::string_view name) {
  for (const SortKeyInfo& k : kSortKeys) {
    if (k.name == name) return k.key;
  }
  return std::nullopt;
}

bool DefaultDescending(SortKey key) { return key != SortKey::kSymbol; }

bool SymbolTable::Apply(std::string_view symbol, const schema::StateFields& state, bool is_update) {
  // find() by absl::string_view (Debian's is not std::string_view) before
  // try_emplace: no key string is built for a known symbol.
  auto it = rows_.find(absl::string_view(symbol.data(), symbol.size()));
  if (it == rows_.end()) {
    it = rows_.try_emplace(std::string(symbol)).first;
    it->second.symbol = std::string(symbol);
  } else if (state.seq <= it->second.state.seq && state.timestamp <= it->second.state.timestamp) {
    return false;
  }
  Row& row = it->second;
  row.state = state;
  if (is_update) ++row.updates;
  return true;
}

void SymbolTable::SampleRates(double elapsed_seconds) {
  if (elapsed_seconds <= 0) return;
  for (auto& [symbol, row] : rows_) {
    row.rate = static_cast<double>(row.updates - row.updates_at_sample) / elapsed_seconds;
    row.updates_at_sample = row.updates;
  }
}

std::vector<const Row*> SymbolTable::View(std::string_view filter, SortKey key, bool descending) const {
  std::vector<const Row*> out;
  out.reserve(rows_.size());
  for (const auto& [symbol, row] : rows_) {
    if (filter.empty() || symbol.find(filter) != std::string::npos) out.push_back(&row);
  }
  // Ties (and the symbol sort) fall back to the symbol, so rows do not jump
  // between refreshes.
  std::sort(out.begin(), out.end(), [key, descending](const Row* a, const Row* b) {
    const double va = SortValue(*a, key), vb = SortValue(*b, key);
    if (va != vb) return descending ? va > vb : va < vb;
    return descending && key == SortKey::kSymbol ? a->symbol > b->symbol : a->symbol < b->symbol;
  });
  return out;
}

}  // namespace physics::top
