// Where physics-publish gets its ticks: the engine's own simulator
// (feed::SimFeed, recorded through a TickSink, so there is one simulator in
// the project) or a CSV file in the engine's csv format.
// Not thread-safe: used by the publishing thread.
#ifndef PHYSICS_TOOLS_PUBLISH_TICK_SOURCE_H_
#define PHYSICS_TOOLS_PUBLISH_TICK_SOURCE_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/feed/csv_feed.h"
#include "engine/feed/sim_feed.h"
#include "engine/schema/tick.h"

namespace physics::publish {

class TickSource {
 public:
  virtual ~TickSource() = default;
  // The next tick into `tick`; false when the source is exhausted.
  virtual bool Next(schema::Tick& tick) = 0;
};

// Bursts of 1-3 ticks per symbol from feed::SimFeed, each burst stamped with
// the wall clock when it is generated. Never exhausted.
class SimTickSource final : public TickSource, private feed::TickSink {
 public:
  SimTickSource(std::vector<std::string> symbols, uint64_t seed);
  bool Next(schema::Tick& tick) override;

 private:
  void Accept(const schema::Tick& tick) override { burst_.push_back(tick); }
  void Reject(const feed::TickOrigin&, const absl::Status&) override {}

  feed::SimFeed sim_;
  std::vector<schema::Tick> burst_;
  size_t next_ = 0;
};

// The rows of a CSV file (header timestamp,symbol,price,size,trades,bid,ask),
// as they are: values are not validated, so invalid ticks reach the engine.
// Rows that cannot be parsed at all are skipped with a warning.
class CsvTickSource final : public TickSource {
 public:
  // kNotFound / kInvalidArgument naming the file.
  static absl::StatusOr<std::unique_ptr<CsvTickSource>> Open(const std::string& path);
  bool Next(schema::Tick& tick) override;

 private:
  explicit CsvTickSource(std::unique_ptr<feed::CsvFile> file) : file_(std::move(file)) {}

  std::unique_ptr<feed::CsvFile> file_;
};

}  // namespace physics::publish

#endif  // PHYSICS_TOOLS_PUBLISH_TICK_SOURCE_H_
