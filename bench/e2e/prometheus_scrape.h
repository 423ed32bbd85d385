// The bridge's own view of a run: the sums and counts of two of its /metrics
// histograms (event timestamp -> read from Redis, read -> socket write done),
// scraped before and after the measured window to get the run's means.
// Thread-safe: one blocking HTTP GET with no shared state (the harness runs
// the first scrape on a side thread so the client loop never waits for it).
#ifndef PHYSICS_BENCH_E2E_PROMETHEUS_SCRAPE_H_
#define PHYSICS_BENCH_E2E_PROMETHEUS_SCRAPE_H_

#include "absl/status/statusor.h"

namespace physics::bench::e2e {

struct BridgeLatencySums {
  double redis_sum = 0, redis_count = 0, write_sum = 0, write_count = 0;
};

// GETs http://127.0.0.1:port/metrics (2 s deadline) and reads the
// bridge_redis_to_bridge_seconds and bridge_socket_write_seconds _sum and
// _count lines; a missing line leaves its figure at 0.
// Errors: the HTTP client's; kInternal for a line whose value is no number.
absl::StatusOr<BridgeLatencySums> ScrapeBridge(int port);

}  // namespace physics::bench::e2e

#endif  // PHYSICS_BENCH_E2E_PROMETHEUS_SCRAPE_H_
