// What a process or thread has cost so far, read from /proc and getrusage:
// the benchmark samples these at the start and end of the measured window
// (bridge CPU and RSS, the client threads' CPU).
// Thread-safe: stateless functions; ThreadCpuSeconds measures the caller.
#ifndef PHYSICS_BENCH_E2E_PROC_SAMPLER_H_
#define PHYSICS_BENCH_E2E_PROC_SAMPLER_H_

#include <sys/types.h>

namespace physics::bench::e2e {

// CPU seconds (user + system) process `pid` has used, from /proc/PID/stat;
// 0 when it cannot be read.
double ProcessCpuSeconds(pid_t pid);

// Resident set size of process `pid` in MiB (VmRSS in /proc/PID/status); 0
// when it cannot be read.
double ProcessRssMb(pid_t pid);

// CPU seconds (user + system) the calling thread has used.
double ThreadCpuSeconds();

}  // namespace physics::bench::e2e

#endif  // PHYSICS_BENCH_E2E_PROC_SAMPLER_H_
