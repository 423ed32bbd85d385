#include "engine/loop/symbol_book.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/key_slot.h"
#include "engine/schema/json_writer.h"
#include "engine/schema/state_message.h"

namespace physics::loop {
namespace {

constexpr int64_t kRejectLogsPerSecond = 20;
// Enough for the largest state/event JSON, so encoding never reallocates.
constexpr size_t kStateJsonCapacity = 320;
constexpr size_t kEventJsonCapacity = 512;

}  // namespace

namespace {

std::string JoinKey(std::string_view prefix, std::string_view name, std::string_view symbol) {
  std::string key;
  key.reserve(prefix.size() + name.size() + symbol.size());
  key.append(prefix).append(name).append(symbol);
  return key;
}

}  // namespace

SymbolState::SymbolState(std::string name, std::string key_prefix, size_t window_capacity,
                         std::pmr::memory_resource* window_memory)
    : symbol(std::move(name)),
      state_key(JoinKey(key_prefix, schema::kStateKeyPrefix, symbol)),
      snapshot_key(JoinKey(key_prefix, schema::kSnapshotKeyPrefix, symbol)),
      state_slot(redis::KeySlot(state_key)),
      snapshot_slot(redis::KeySlot(snapshot_key)),
      symbol_crc16(redis::Crc16(symbol)),
      window(window_capacity, window_memory) {
  state_json.reserve(kStateJsonCapacity);
  event_json.reserve(kEventJsonCapacity);
}

SymbolBook::SymbolBook(size_t window_capacity, std::string key_prefix)
    : window_capacity_(window_capacity),
      key_prefix_(std::move(key_prefix)),
      calculator_(window_capacity),
      reject_log_(kRejectLogsPerSecond) {}

void SymbolBook::Accept(const schema::Tick& tick) {
  ++counters_.ticks_accepted;
  SymbolState* s;
  if (auto it = by_name_.find(tick.symbol); it != by_name_.end()) {
    s = it->second;
  } else {
    symbols_.push_back(std::make_unique<SymbolState>(tick.symbol, key_prefix_, window_capacity_, &window_memory_));
    s = symbols_.back().get();
    by_name_.emplace(s->symbol, s);
    if (auto floor = seq_floors_.find(s->symbol); floor != seq_floors_.end()) {
      s->seq = floor->second;
      seq_floors_.erase(floor);
    }
    // Growing these here (not in CloseTick) keeps loop ticks allocation-free.
    traded_.reserve(symbols_.size());
    unwritten_.reserve(symbols_.size());
  }
  if (!s->traded) {
    s->traded = true;
    s->volume = 0;
    s->trades = 0;
    traded_.push_back(s);
  }
  s->price = tick.price;
  s->volume += tick.size;
  s->trades += tick.trades;
  s->timestamp = tick.timestamp;
  if (!std::isnan(tick.bid)) s->bid = tick.bid;
  if (!std::isnan(tick.ask)) s->ask = tick.ask;
}

void SymbolBook::Reject(const feed::TickOrigin& origin, const absl::Status& why) {
  ++counters_.ticks_rejected;
  LogRejection(origin, why);
}

void SymbolBook::LogRejection(const feed::TickOrigin& origin, const absl::Status& why) {
  int64_t held_back = 0;
  const bool admitted = reject_log_.Admit(std::chrono::steady_clock::now(), held_back);
  if (held_back > 0) {
    log::Warn(absl::StrCat(held_back, " more ticks rejected (log lines capped at ", kRejectLogsPerSecond,
                           " a second)"));
  }
  if (!admitted) return;
  std::string line = absl::StrCat("rejected tick (", std::string(origin.source));
  if (origin.line > 0) absl::StrAppend(&line, " line ", origin.line);
  absl::StrAppend(&line, "): ", why.message());
  log::Warn(line);
}

size_t SymbolBook::CloseTick(absl::FunctionRef<void()> progress) {
  size_t done = 0;
  for (size_t i = 0; i < traded_.size(); ++i) {
    SymbolState* s = traded_[i];
    if (i + 1 < traded_.size()) traded_[i + 1]->window.Prefetch();
    s->window.Push(physics::Observation{s->price, s->volume, s->trades});
    Encode(*s, calculator_.Compute(s->window));
    s->traded = false;
    if (!s->unwritten) {
      s->unwritten = true;
      unwritten_.push_back(s);
    }
    if (++done % kProgressEvery == 0) progress();
  }
  const size_t updated = traded_.size();
  counters_.updates += static_cast<int64_t>(updated);
  traded_.clear();
  return updated;
}

void SymbolBook::Encode(SymbolState& s, const physics::PhysicsVector& v) {
  ++s.seq;
  schema::StateFields f;
  f.mass = v.mass;
  f.momentum = v.momentum;
  f.friction = v.friction;
  f.entropy = v.entropy;
  f.nash_dist = v.nash_dist;
  f.regime = physics::RegimeName(v.regime);
  f.alpha = v.alpha;
  f.price = s.price;
  f.seq = s.seq;
  f.timestamp = s.timestamp;
  s.state_json.clear();
  const schema::StateJsonTexts texts = schema::AppendStateJson(f, s.state_json);
  s.price_text = texts.price;
  s.event_json.clear();
  schema::AppendEventJson(s.symbol, texts.timestamp.In(s.state_json), s.seq,
                          texts.alpha.In(s.state_json), s.state_json, s.event_json);
}

void SymbolBook::RaiseSeqs(absl::flat_hash_map<std::string, int64_t> stored) {
  for (auto it = stored.begin(); it != stored.end();) {
    if (auto known = by_name_.find(it->first); known != by_name_.end()) {
      known->second->seq = std::max(known->second->seq, it->second);
      stored.erase(it++);
    } else {
      ++it;
    }
  }
  seq_floors_ = std::move(stored);
}

void SymbolBook::MarkAllWritten() {
  for (SymbolState* s : unwritten_) s->unwritten = false;
  unwritten_.clear();
}

void SymbolBook::MarkWrittenExcept(std::span<const uint32_t> kept) {
  for (SymbolState* s : unwritten_) s->unwritten = false;
  for (uint32_t i : kept) unwritten_[i]->unwritten = true;
  std::erase_if(unwritten_, [](const SymbolState* s) { return !s->unwritten; });
}

void SymbolBook::MarkUnwritten(std::span<SymbolState* const> symbols) {
  for (SymbolState* s : symbols) {
    if (s->unwritten) continue;
    s->unwritten = true;
    unwritten_.push_back(s);
  }
}

const SymbolState* SymbolBook::Find(std::string_view symbol) const {
  auto it = by_name_.find(absl::string_view(symbol.data(), symbol.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace physics::loop
