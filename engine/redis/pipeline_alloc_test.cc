// Proves the hot-path promise of pipeline.h: once warmed up, Append and Execute
// allocate nothing, in our code or in hiredis. The binary's malloc family is
// replaced by counting wrappers around glibc's (symbol interposition); the
// counter only runs inside AllocationCounter scopes. Not built with sanitizers.
#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/redis/cluster.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/pipeline.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"
#include "tests/support/redis_server.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
}

namespace {
// Globals by necessity: malloc has no other place to keep them.
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void Count() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}

// Counts allocations made while it lives.
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationCounter() { g_counting = false; }
  long count() const { return g_allocations.load(); }
};
}  // namespace

extern "C" {
void* malloc(size_t size) {
  Count();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  Count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  Count();
  return __libc_realloc(p, size);
}
}

namespace physics::redis {
namespace {

TEST(PipelineAllocations, CounterSeesAllocations) {
  AllocationCounter counter;
  std::string* s = new std::string(100, 'x');
  delete s;
  EXPECT_GE(counter.count(), 2);
}

TEST(PipelineAllocations, SteadyStateTickAllocatesNothing) {
  testing::RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();

  std::vector<std::string> keys, snapshot_keys, values;
  for (int i = 0; i < 2000; ++i) {
    keys.push_back(absl::StrCat("physics:state:SYM", i));
    snapshot_keys.push_back(absl::StrCat("market:snapshot:SYM", i));
    values.push_back(absl::StrCat("{\"mass\":0.42,\"seq\":", i, "}"));
  }
  Pipeline p;
  // One engine tick: state, snapshot and event for every symbol.
  auto append_tick = [&] {
    for (size_t i = 0; i < keys.size(); ++i) {
      p.Append({"SET", keys[i], values[i]});
      p.Append({"HSET", snapshot_keys[i], "price", "450.32", "volume", "1200"});
      p.Append({"PUBLISH", "state_update", values[i]});
    }
  };
  for (int warmup = 0; warmup < 3; ++warmup) {
    append_tick();
    ASSERT_TRUE(p.Execute(*conn).ok());
  }

  long allocations = -1;
  absl::Status s;
  {
    AllocationCounter counter;
    append_tick();
    s = p.Execute(*conn);
    allocations = counter.count();
  }
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(allocations, 0);
}

TEST(PipelineAllocations, SteadyStateClusterBatchAllocatesNothing) {
  testing::ClusterSet set({.replicas_per_master = 0});
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<Cluster> cluster = Cluster::Open(set.config(), absl::Seconds(1), absl::Seconds(5));
  ASSERT_TRUE(cluster.ok()) << cluster.status();

  std::vector<std::string> keys, values, channels;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back(absl::StrCat("physics:state:SYM", i));
    values.push_back(absl::StrCat("{\"mass\":0.42,\"seq\":", i, "}"));
  }
  for (int p = 0; p < 24; ++p) channels.push_back(absl::StrCat("state_update:{", p, "}"));
  ClusterPipeline p;
  // One engine tick on a cluster: every state, then a transaction per partition.
  auto append_tick = [&] {
    for (size_t i = 0; i < keys.size(); ++i) {
      p.Append(KeySlot(keys[i]), static_cast<uint32_t>(i), {"SET", keys[i], values[i]});
    }
    for (size_t c = 0; c < channels.size(); ++c) {
      p.BeginTransaction(KeySlot(channels[c]), static_cast<uint32_t>(c));
      for (int m = 0; m < 10; ++m) p.AppendToTransaction({"SPUBLISH", channels[c], values[m]});
      p.EndTransaction();
    }
  };
  for (int warmup = 0; warmup < 3; ++warmup) {
    append_tick();
    ASSERT_TRUE(p.Execute(*cluster).ok());
  }

  long allocations = -1;
  absl::Status s;
  {
    AllocationCounter counter;
    append_tick();
    p.SendNow(*cluster);
    s = p.Execute(*cluster);
    allocations = counter.count();
  }
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(allocations, 0);
}

}  // namespace
}  // namespace physics::redis
