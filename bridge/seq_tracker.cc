#include "bridge/seq_tracker.h"

#include "engine/redis/internal/string_view.h"

namespace physics::bridge {

using redis::internal::ToAbsl;

SeqTracker::Verdict SeqTracker::Observe(std::string_view symbol, int64_t seq,
                                        std::optional<schema::EpochMicros> time) {
  auto it = last_.find(ToAbsl(symbol));
  if (it == last_.end()) {
    last_.emplace(std::string(symbol), (struct Last){seq, time});
    return Verdict::kFirst;
  }
  struct Last& last = it->second;
  Verdict verdict;
  if (seq == last.seq + 1) {
    verdict = Verdict::kNext;
  } else if (seq > last.seq) {
    verdict = Verdict::kGap;
  } else if ((seq < last.seq && seq == 1) || (time && last.time && *time > *last.time)) {
    verdict = Verdict::kRestart;
  } else {
    return Verdict::kStale;
  }
  last = {seq, time};
  return verdict;
}

std::optional<int64_t> SeqTracker::Last(std::string_view symbol) const {
  auto it = last_.find(ToAbsl(symbol));
  if (it == last_.end()) return std::nullopt;
  return it->second.seq;
}

}  // namespace physics::bridge
