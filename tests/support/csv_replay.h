// The reference for what physics-engine writes from a csv file: the same file
// replayed in-process through the same feed and symbol book, tick by tick, so
// integration tests can demand byte-equal states and events.
// Thread-safe (stateless).
#ifndef PHYSICS_TESTS_SUPPORT_CSV_REPLAY_H_
#define PHYSICS_TESTS_SUPPORT_CSV_REPLAY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace physics::testing {

struct CsvReplay {
  std::map<std::string, std::string> states;  // symbol -> its last state JSON
  std::vector<std::string> events;            // every event, in publish order
};

// Replays `path` with loop ticks at `hz` (event time, so no waiting).
// Errors: the csv feed's when the file cannot be opened or read.
absl::StatusOr<CsvReplay> ReplayCsvFile(const std::string& path, double hz);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_CSV_REPLAY_H_
