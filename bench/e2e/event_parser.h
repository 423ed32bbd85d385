// Reads what the benchmark's clients need from each message the bridge sends
// (the event inside the {"type":"message",...} wrapper, then its symbol, seq
// and timestamp) cheaply enough that the client stays far cheaper than the
// bridge it measures.
// Not thread-safe: an EventParser caches the last timestamp; each client
// thread has its own. MessageData is a pure function.
#ifndef PHYSICS_BENCH_E2E_EVENT_PARSER_H_
#define PHYSICS_BENCH_E2E_EVENT_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/schema/event_header.h"
#include "engine/schema/timestamp.h"

namespace physics::bench::e2e {

// The `data` of a {"type":"message",...,"data":D} text frame payload (the
// bridge's wrapper), or nullopt for any other payload.
std::optional<std::string_view> MessageData(std::string_view payload);

struct EventFields {
  std::string_view symbol;  // inside the event, or the parser's copy
  int64_t seq = 0;
  schema::EpochMicros timestamp = 0;  // 0: none
};

class EventParser {
 public:
  // Fills `out` from a state_update event; false when it has no valid symbol
  // and seq. `out.symbol` stays valid until the next call or while `event`
  // lives, whichever is shorter.
  // The engine writes events with a fixed field order (docs/SPEC.md §3 shape):
  // {"event":"PHYSICS_UPDATE","symbol":"SPY","timestamp":"...Z","seq":N,...
  // Reading symbol, timestamp and seq at those places costs a few tens of
  // nanoseconds; simdjson (schema::ParseEventHeader) reads any other layout.
  bool Parse(std::string_view event, EventFields& out);

 private:
  // The fixed-layout path; false when the layout differs.
  bool ParseFixedLayout(std::string_view event, EventFields& out);

  // Every event of a tick has the same timestamp text: the last one parsed is
  // reused (parsing it was a sixth of the client's CPU).
  std::string timestamp_text_;
  schema::EpochMicros timestamp_ = 0;
  schema::EventHeader header_;  // the simdjson path's
};

}  // namespace physics::bench::e2e

#endif  // PHYSICS_BENCH_E2E_EVENT_PARSER_H_
