#include "engine/feed/symbol_share.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace physics::feed {
namespace {

bool ParseInt(std::string_view text, int& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string Shard::ToString() const { return absl::StrCat(index, "/", count); }

absl::StatusOr<Shard> ParseShard(std::string_view text, int partitions) {
  const size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string_view::npos || !ParseInt(text.substr(0, slash), shard.index) ||
      !ParseInt(text.substr(slash + 1), shard.count) || shard.index < 0 ||
      shard.index >= shard.count || shard.count > partitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected I/N with 0 <= I < N <= ", partitions, " (the partitions), e.g. 0/2"));
  }
  return shard;
}

SymbolShare::SymbolShare(redis::Partitioning partitioning, Shard shard)
    : partitioning_(std::move(partitioning)), shard_(shard) {}

}  // namespace physics::feed
