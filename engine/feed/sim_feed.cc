#include "engine/feed/sim_feed.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/schema/symbol.h"
#include "engine/schema/timestamp.h"

namespace physics::feed {
namespace {

constexpr const char* kWellKnown[] = {
    "SPY", "QQQ", "IWM", "DIA", "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META",
    "TSLA", "BRK.B", "JPM", "V", "XOM", "UNH", "JNJ", "WMT", "MA", "PG",
    "HD", "CVX", "LLY", "AVGO", "KO", "PEP", "COST", "MRK", "ABBV", "BAC",
    "TLT", "GLD", "SLV", "USO", "EEM", "EFA", "HYG", "LQD", "XLF", "XLE"};

// Tail indices cycled over symbols: Gaussian-like, Levy, Critical.
constexpr double kTailIndices[] = {4.0, 1.6, 0.8};
constexpr double kMaxAbsReturn = 0.2;  // keeps one jump from wiping out a price
constexpr double kReversion = 0.002;   // per tick pull towards the anchor

}  // namespace

std::vector<std::string> DefaultSymbols(size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (i < std::size(kWellKnown)) {
      out.emplace_back(kWellKnown[i]);
    } else {
      out.push_back(absl::StrFormat("SYM%04d", i - std::size(kWellKnown) + 1));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseSymbolsFlag(std::string_view value) {
  int64_t count = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (ec == std::errc() && ptr == value.data() + value.size()) {
    if (count < 1 || count > 1'000'000) {
      return absl::InvalidArgumentError("expected a count from 1 to 1000000 or a comma list like SPY,QQQ");
    }
    return DefaultSymbols(static_cast<size_t>(count));
  }
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(absl::string_view(value.data(), value.size()), ',')) {
    std::string symbol;
    if (absl::Status s = schema::NormalizeSymbol(std::string_view(part.data(), part.size()), symbol);
        !s.ok()) {
      return s;
    }
    if (!seen.insert(symbol).second) {
      return absl::InvalidArgumentError(absl::StrCat("symbol ", symbol, " is listed twice"));
    }
    out.push_back(std::move(symbol));
  }
  return out;
}

uint64_t SimFeed::SplitMix64::operator()() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

SimFeed::SimFeed(std::vector<std::string> symbols, uint64_t seed, const SymbolShare& share) {
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (!share.Owns(symbols[i])) continue;
    // FNV-1a of the name, mixed with the seed: the symbol's own stream.
    uint64_t name_hash = 0xcbf29ce484222325ULL;
    for (const char c : symbols[i]) name_hash = (name_hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    SymbolPath& path = paths_.emplace_back(SymbolPath{.symbol = std::move(symbols[i]),
                                                      .rng = SplitMix64(SplitMix64(seed ^ name_hash)())});
    path.log_price = path.anchor = std::log(20.0 + 480.0 * Uniform(path));
    path.tail_index = kTailIndices[i % std::size(kTailIndices)];
    path.scale = 0.0004 + 0.0006 * Uniform(path);
  }
}

double SimFeed::NextReturn(SymbolPath& path) {
  // Most moves are small and Gaussian; one in five is a symmetric Pareto jump
  // with the symbol's tail index, which dominates the largest 10% of |r| and
  // so sets the Hill estimate.
  double r = path.scale * path.normal(path.rng);
  if (Uniform(path) < 0.2) {
    const double u = std::max(Uniform(path), 1e-12);
    const double jump = path.scale * (std::pow(u, -1.0 / path.tail_index) - 1.0);
    r += Uniform(path) < 0.5 ? -jump : jump;
  }
  return std::clamp(r, -kMaxAbsReturn, kMaxAbsReturn);
}

void SimFeed::GenerateBurst(schema::EpochMicros now, TickSink& sink) {
  static constexpr std::string_view kSource = "sim";
  for (SymbolPath& path : paths_) {
    const int ticks = 1 + static_cast<int>(Uniform(path) * 3);
    for (int k = 0; k < ticks; ++k) {
      path.log_price += NextReturn(path) - kReversion * (path.log_price - path.anchor);
      const double price = std::exp(path.log_price);
      const double half_spread = price * 0.0001 * (1.0 + Uniform(path));
      tick_.symbol.assign(path.symbol);
      tick_.price = price;
      tick_.size = std::floor(100.0 * std::exp(1.5 * path.normal(path.rng)));
      tick_.trades = 1 + std::floor(4 * Uniform(path));
      tick_.bid = price - half_spread;
      tick_.ask = price + half_spread;
      tick_.timestamp = now;
      Deliver(tick_, TickOrigin{kSource, 0}, sink);
    }
  }
}

absl::StatusOr<PollResult> SimFeed::Poll(SteadyTime deadline, TickSink& sink,
                                         const Interrupt& interrupted) {
  // The burst is stamped just before the loop tick closes, as the last ticks
  // of a real period would be, so event-to-delivery latency is not inflated
  // by the loop period.
  interrupted.WaitUntil(deadline);
  GenerateBurst(schema::NowEpochMicros(), sink);
  return PollResult::kCloseTick;
}

}  // namespace physics::feed
