// What the benchmarks against a private redis-server share: the server's own
// CPU and command counters (INFO), the limit `redis-cli --pipe` reaches for a
// file of commands, and simulator bursts recorded ahead of a timed loop.
// Thread-safe: stateless functions (each call opens its own connection).
#ifndef PHYSICS_BENCH_REDIS_LIMIT_H_
#define PHYSICS_BENCH_REDIS_LIMIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schema/tick.h"
#include "tests/support/redis_server.h"

namespace physics::bench {

// redis-server's used_cpu_user + used_cpu_sys (INFO cpu), seconds; 0 when
// the server does not answer.
double RedisCpuSeconds(const testing::RedisServer& server);

// How many times the server has executed `command` (lower case, e.g.
// "publish"; INFO commandstats), 0 when never or when it does not answer.
int64_t CommandCalls(const testing::RedisServer& server, std::string_view command);
// Every command the server has executed (INFO commandstats, summed over the
// commands): how many, and the µs spent in them (not in reading and
// replying); zeros when it does not answer.
struct CommandTotals {
  int64_t calls = 0;
  int64_t usec = 0;
};
CommandTotals AllCommands(const testing::RedisServer& server);
// A counter of a cluster node's CLUSTER INFO, e.g.
// "cluster_stats_messages_publish_sent"; 0 when absent or no answer.
int64_t ClusterInfoCounter(const testing::RedisServer& server, std::string_view field);

// This process's user + system CPU, seconds.
double OwnCpuSeconds();

// One `redis-cli --pipe < resp_path` against `server`.
struct PipeRun {
  bool ok = false;
  double seconds = 0;             // wall time, start to exit
  double client_cpu_seconds = 0;  // redis-cli (and its shell), user + system
  double redis_cpu_seconds = 0;   // the server meanwhile
};
PipeRun PipeFile(const testing::RedisServer& server, const std::string& resp_path);

// `bursts` simulator bursts (1-3 ticks per symbol each, DefaultSymbols, seed
// 42), recorded so a timed loop does not pay for simulating a market.
std::vector<std::vector<schema::Tick>> RecordBursts(size_t symbols, int bursts);

}  // namespace physics::bench

#endif  // PHYSICS_BENCH_REDIS_LIMIT_H_
