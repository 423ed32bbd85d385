// ClusterTopology::FromShardsReply on a real cluster's reply (ClusterSet) and
// on malformed ones (RESP text read by hiredis's own reader).
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/redis/cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cluster_set.h"

namespace physics::redis {
namespace {

using ::testing::HasSubstr;

// The reply hiredis builds from `resp`.
Reply Parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  const int rc = redisReaderGetReply(reader, &reply);
  redisReaderFree(reader);
  EXPECT_EQ(rc, REDIS_OK);
  EXPECT_NE(reply, nullptr) << "incomplete RESP: " << resp;
  return Reply(static_cast<redisReply*>(reply));
}

std::string Bulk(const std::string& s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Int(long long v) { return absl::StrCat(":", v, "\r\n"); }

// One node's field/value array as Redis 7 sends it.
std::string Node(const std::string& id, int port, const std::string& ip,
                 const std::string& endpoint, const std::string& role) {
  return "*14\r\n" + Bulk("id") + Bulk(id) + Bulk("port") + Int(port) + Bulk("ip") + Bulk(ip) +
         Bulk("endpoint") + Bulk(endpoint) + Bulk("role") + Bulk(role) +
         Bulk("replication-offset") + Int(42) + Bulk("health") + Bulk("online");
}

std::string Shard(const std::string& slots, int n_slots, const std::string& nodes, int n_nodes) {
  return "*4\r\n" + Bulk("slots") + "*" + std::to_string(n_slots) + "\r\n" + slots +
         Bulk("nodes") + "*" + std::to_string(n_nodes) + "\r\n" + nodes;
}

TEST(ClusterTopology, ReadsSlotsMastersAndReplicas) {
  const std::string reply =
      "*3\r\n" +
      Shard(Int(0) + Int(99) + Int(200) + Int(200), 4,
            Node("a", 7000, "10.0.0.1", "10.0.0.1", "master") +
                Node("b", 7003, "10.0.0.2", "?", "replica"), 2) +
      Shard("", 0, Node("c", 7001, "10.0.0.3", "10.0.0.3", "master"), 1) +  // no slots: left out
      Shard(Int(100) + Int(199), 2, Node("d", 7002, "", "", "master"), 1);
  absl::StatusOr<ClusterTopology> t =
      ClusterTopology::FromShardsReply(Parse(reply).get(), "seed.host");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->shards.size(), 2u);
  EXPECT_EQ(t->shards[0].master_id, "a");
  EXPECT_EQ(t->shards[0].master, (HostPort{"10.0.0.1", 7000}));
  EXPECT_EQ(t->shards[0].master_replication_offset, 42);
  ASSERT_EQ(t->shards[0].replicas.size(), 1u);
  EXPECT_EQ(t->shards[0].replicas[0].address, (HostPort{"10.0.0.2", 7003}));  // endpoint "?": ip
  EXPECT_TRUE(t->shards[0].replicas[0].online);
  EXPECT_EQ(t->shards[1].master, (HostPort{"seed.host", 7002}));  // no address: the node asked
  EXPECT_EQ(t->covered_slots(), 201);
  EXPECT_EQ(t->slot_owner[0], 0);
  EXPECT_EQ(t->slot_owner[99], 0);
  EXPECT_EQ(t->slot_owner[100], 1);
  EXPECT_EQ(t->slot_owner[200], 0);
  EXPECT_EQ(t->slot_owner[201], ClusterTopology::kNoOwner);
  EXPECT_EQ(t->ShardOf(HostPort{"seed.host", 7002}), 1);
  EXPECT_EQ(t->ShardOf(HostPort{"10.0.0.2", 7003}), ClusterTopology::kNoOwner);
}

TEST(ClusterTopology, MalformedRepliesAreInternalErrorsNamingThePart) {
  const std::string good_node = Node("a", 7000, "h", "h", "master");
  struct Case {
    std::string resp;
    std::string says;
  } cases[] = {
      {"+OK\r\n", "not an array"},
      {"*1\r\n*1\r\n" + Bulk("slots"), "shard 0 is not a field/value array"},
      {"*1\r\n" + Shard(Int(0), 1, good_node, 1), "\"slots\" is not a list"},
      {"*1\r\n" + Shard(Int(5) + Int(4), 2, good_node, 1), "0 <= first <= last < 16384"},
      {"*1\r\n" + Shard(Int(0) + Int(16384), 2, good_node, 1), "0 <= first <= last < 16384"},
      {"*1\r\n" + Shard(Bulk("0") + Int(1), 2, good_node, 1), "0 <= first <= last"},
      {"*1\r\n*4\r\n" + Bulk("slots") + "*0\r\n" + Bulk("nodes") + Bulk("x"), "\"nodes\" is not an array"},
      {"*1\r\n" + Shard(Int(0) + Int(1), 2, Node("", 7000, "h", "h", "master"), 1), "has no id"},
      {"*1\r\n" + Shard(Int(0) + Int(1), 2, Node("a", 0, "h", "h", "master"), 1), "no plain \"port\""},
      {"*1\r\n" + Shard(Int(0) + Int(1), 2, Node("a", 7000, "h", "h", "boss"), 1), "role \"boss\""},
      {"*1\r\n" + Shard(Int(0) + Int(1), 2, "*1\r\n" + Bulk("id"), 1), "not a field/value array"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ClusterTopology> t = ClusterTopology::FromShardsReply(Parse(c.resp).get());
    ASSERT_FALSE(t.ok()) << c.says;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInternal);
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(c.says));
  }
  EXPECT_FALSE(ClusterTopology::FromShardsReply(nullptr).ok());
}

TEST(ClusterTopology, ReadsARealClustersReply) {
  testing::ClusterSet cluster;
  ASSERT_TRUE(cluster.Start().ok());
  absl::StatusOr<Reply> reply = cluster.node(0).Run({"CLUSTER", "SHARDS"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  absl::StatusOr<ClusterTopology> t = ClusterTopology::FromShardsReply(reply->get());
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->shards.size(), 3u);
  EXPECT_EQ(t->covered_slots(), kClusterSlots);
  for (const ClusterShard& shard : t->shards) {
    EXPECT_EQ(shard.master.host, "127.0.0.1");
    EXPECT_EQ(shard.master_id.size(), 40u);
    ASSERT_EQ(shard.replicas.size(), 1u);
    EXPECT_EQ(shard.replicas[0].id.size(), 40u);
    EXPECT_EQ(shard.replicas[0].address.host, "127.0.0.1");
  }
  for (uint16_t slot : {0, 5000, 10000, 16383}) {
    absl::StatusOr<size_t> master = cluster.MasterOf(slot);
    ASSERT_TRUE(master.ok());
    EXPECT_EQ(t->shards[t->slot_owner[slot]].master.port, cluster.node(*master).port());
  }
}

}  // namespace
}  // namespace physics::redis
