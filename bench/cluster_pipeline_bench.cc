// One batch of N SETs (plus, for the cluster, nothing else) through
// ClusterPipeline::Execute over a real 3-master cluster vs Pipeline::Execute
// on one standalone redis-server, same machine, same values. On a loaded
// 2-core machine the six processes share the cores, so the figure shows the
// client's overhead and the per-master parallelism, not cluster throughput.
//
//   build/bin/cluster_pipeline_bench --benchmark_min_time=1
//       --benchmark_out=cluster.json --benchmark_out_format=json   (one line)
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/redis/cluster.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/pipeline.h"
#include "tests/support/cluster_set.h"
#include "tests/support/redis_server.h"

namespace physics {
namespace {

struct Keys {
  std::vector<std::string> names;
  std::vector<uint16_t> slots;
  std::string value = std::string(200, 'v');  // about a state JSON's size
};

Keys MakeKeys(int64_t n) {
  Keys k;
  for (int64_t i = 0; i < n; ++i) {
    k.names.push_back(absl::StrCat("physics:state:SYM", i));
    k.slots.push_back(redis::KeySlot(k.names.back()));
  }
  return k;
}

void BM_StandalonePipeline(benchmark::State& state, redis::Connection* conn) {
  const Keys keys = MakeKeys(state.range(0));
  redis::Pipeline p;
  for (auto _ : state) {
    for (const std::string& key : keys.names) p.Append({"SET", key, keys.value});
    const absl::Status s = p.Execute(*conn);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ClusterPipeline(benchmark::State& state, redis::Cluster* cluster) {
  const Keys keys = MakeKeys(state.range(0));
  redis::ClusterPipeline p;
  for (auto _ : state) {
    for (size_t i = 0; i < keys.names.size(); ++i) {
      p.Append(keys.slots[i], static_cast<uint32_t>(i), {"SET", keys.names[i], keys.value});
    }
    const absl::Status s = p.Execute(*cluster);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace
}  // namespace physics

int main(int argc, char** argv) {
  using namespace physics;
  benchmark::Initialize(&argc, argv);
  testing::RedisServer standalone;
  testing::ClusterSet cluster_set({.replicas_per_master = 0});
  if (absl::Status s = standalone.Start(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (absl::Status s = cluster_set.Start(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  absl::StatusOr<redis::Connection> conn = standalone.Connect();
  absl::StatusOr<redis::Cluster> cluster =
      redis::Cluster::Open(cluster_set.config(), absl::Seconds(1), absl::Seconds(5));
  if (!conn.ok() || !cluster.ok()) {
    std::cerr << conn.status() << " / " << cluster.status() << "\n";
    return 1;
  }
  benchmark::RegisterBenchmark("BM_StandalonePipeline", BM_StandalonePipeline, &*conn)
      ->RangeMultiplier(10)->Range(100, 10000)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_ClusterPipeline", BM_ClusterPipeline, &*cluster)
      ->RangeMultiplier(10)->Range(100, 10000)->Unit(benchmark::kMicrosecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
