// Generated tick files for the live-feed tests: a CSV the csv feed, physics-
// publish --csv and csv_replay.h all read, with rows the schema must reject.
// Thread-safe (stateless, deterministic).
#ifndef PHYSICS_TESTS_SUPPORT_TICK_CSV_H_
#define PHYSICS_TESTS_SUPPORT_TICK_CSV_H_

#include <string>
#include <vector>

namespace physics::testing {

// The symbols of MakeTickCsv.
extern const std::vector<std::string> kTickCsvSymbols;  // SPY, QQQ, IWM, AAPL, MSFT, NVDA

// `buckets` one-second buckets from 2025-12-21 12:00 UTC, two ticks per
// symbol each (in-bucket order shuffled), plus rows that parse but must be
// rejected (a negative price for SPY, the symbol "SP Y"), counted in
// *invalid_rows.
std::string MakeTickCsv(int buckets, int* invalid_rows);

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_TICK_CSV_H_
