// Which symbols an engine shard owns (docs/SPEC.md §9): with `--shard I/N`
// the engine owns the partitions p (partition.h) with p mod N == I and
// computes and writes only their symbols; the feeds hand it only those
// (the simulator simulates only them; ShareFeed drops the others' ticks from
// any other feed).
// Without --shard (I/N = 0/1) it owns every symbol. A value; thread-safe.
//
//   absl::StatusOr<Shard> shard = ParseShard("1/4", /*partitions=*/24);
//   SymbolShare share(redis::Partitioning(24), *shard);
//   if (!share.Owns("SPY")) return;   // another shard's symbol
#ifndef PHYSICS_ENGINE_FEED_SYMBOL_SHARE_H_
#define PHYSICS_ENGINE_FEED_SYMBOL_SHARE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "engine/feed/feed.h"
#include "engine/redis/partition.h"

namespace physics::feed {

struct Shard {
  int index = 0;  // I
  int count = 1;  // N
  bool whole() const { return count == 1; }
  std::string ToString() const;  // "I/N"
};

// Parses --shard "I/N": integers with 0 <= I < N <= partitions. Errors:
// kInvalidArgument saying what is accepted.
absl::StatusOr<Shard> ParseShard(std::string_view text, int partitions);

class SymbolShare {
 public:
  // Every symbol.
  SymbolShare() = default;
  // REQUIRES: shard.count <= partitioning.count().
  SymbolShare(redis::Partitioning partitioning, Shard shard);

  // True when the symbol's partition is this shard's. `symbol` is normalised
  // (upper case), as the book keys it.
  bool Owns(std::string_view symbol) const {
    return shard_.whole() || redis::ShardOwns(shard_.index, shard_.count, partitioning_.Of(symbol));
  }
  const Shard& shard() const { return shard_; }

 private:
  redis::Partitioning partitioning_{1};
  Shard shard_;
};

// Passes to `inner` the valid ticks of the share's symbols and every
// rejection; drops the other symbols' ticks (a live feed's input for the
// other shards) after validation, so they cost a parse and a CRC16 each.
class ShareSink final : public TickSink {
 public:
  ShareSink(const SymbolShare& share, TickSink& inner) : share_(share), inner_(inner) {}
  void Accept(const schema::Tick& tick) override {
    if (share_.Owns(tick.symbol)) inner_.Accept(tick);
  }
  void Reject(const TickOrigin& origin, const absl::Status& why) override { inner_.Reject(origin, why); }

 private:
  const SymbolShare& share_;
  TickSink& inner_;
};

// A feed seen through a share: `inner`'s ticks of other symbols are dropped
// (csv replay, pubsub: every shard reads the whole input).
class ShareFeed final : public Feed {
 public:
  ShareFeed(std::unique_ptr<Feed> inner, SymbolShare share)
      : inner_(std::move(inner)), share_(std::move(share)) {}
  absl::StatusOr<PollResult> Poll(SteadyTime deadline, TickSink& sink,
                                  const Interrupt& interrupted) override {
    ShareSink shared(share_, sink);
    return inner_->Poll(deadline, shared, interrupted);
  }
  bool event_time() const override { return inner_->event_time(); }
  void OnWritten() override { inner_->OnWritten(); }
  void Lead(std::function<bool()> still_leading) override { inner_->Lead(std::move(still_leading)); }
  bool derives_seq() const override { return inner_->derives_seq(); }

 private:
  std::unique_ptr<Feed> inner_;
  SymbolShare share_;
};

}  // namespace physics::feed

#endif  // PHYSICS_ENGINE_FEED_SYMBOL_SHARE_H_
