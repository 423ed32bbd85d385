// Generated tick files for the live-feed tests: a CSV the csv feed, physics-
// publish --csv and csv_replay.h all read, with rows the schema must reject.
// Thread-safe (stateless, deterministic).
#ifndef PHYSICS_TESTS_SUPPORT_TICK_CSV_H_
#define PHYSICS_TESTS_SUPPORT_TICK_CSV_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/redis_server.h"

namespace physics::testing {

// The symbols of MakeTickCsv.
extern const std::vector<std::string> kTickCsvSymbols;  // SPY, QQQ, IWM, AAPL, MSFT, NVDA

// `buckets` one-second buckets from 2025-12-21 12:00 UTC, two ticks per
// symbol each (in-bucket order shuffled), plus rows that parse but must be
// rejected (a negative price for SPY, the symbol "SP Y"), counted in
// *invalid_rows.
std::string MakeTickCsv(int buckets, int* invalid_rows);
// The epoch second of MakeTickCsv's first bucket.
inline constexpr int64_t kTickCsvFirstSecond = 1766318400;

// The header and the rows of `csv` (MakeTickCsv's) before epoch second `ts`.
std::string TickCsvRowsBefore(const std::string& csv, int64_t ts);

// XADDs the rows of `csv` with timestamps in [from_ts, to_ts) to
// stream_of(symbol as written) in one MULTI/EXEC: no reader sees part of a
// bucket, so a drained read never closes one early.
absl::Status AppendTickCsvRowsAtomically(const RedisServer& server, const std::string& csv, int64_t from_ts,
                                         int64_t to_ts,
                                         const std::function<std::string(const std::string&)>& stream_of);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_TICK_CSV_H_
