// Stored seqs sampled over time (symbol or key -> seq): whether any ever went
// backwards, the witness that no stale writer landed a write. For tests that
// stall or replace a writer. Not thread-safe.
#ifndef PHYSICS_TESTS_SUPPORT_SEQ_FLOOR_H_
#define PHYSICS_TESTS_SUPPORT_SEQ_FLOOR_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace physics::testing {

class SeqFloor {
 public:
  explicit SeqFloor(std::map<std::string, int64_t> start) : floor_(std::move(start)) {}

  // Notes `seqs`: each becomes its name's floor if higher.
  void Sample(const std::map<std::string, int64_t>& seqs) {
    for (const auto& [name, seq] : seqs) {
      int64_t& floor = floor_[name];
      if (seq < floor) backwards_ = true;
      floor = std::max(floor, seq);
    }
  }
  bool went_backwards() const { return backwards_; }

 private:
  std::map<std::string, int64_t> floor_;
  bool backwards_ = false;
};

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_SEQ_FLOOR_H_
