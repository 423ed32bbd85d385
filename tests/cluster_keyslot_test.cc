// KeySlot (engine/redis/key_slot.h) against the oracle, `CLUSTER KEYSLOT`, of
// a real cluster node: 10 000 keys of every shape, in one pipeline. A node
// answers CLUSTER KEYSLOT without any slot assigned, so one node suffices.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/redis/connection.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/partition.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace physics::redis {
namespace {

// Keys of the shapes that matter: random bytes (NUL, CR, LF, braces, high
// bytes), braces at every kind of position (empty tags, unclosed, nested,
// several), and the project's own keys and channels with and without a
// namespace. Deterministic (seeded).
std::vector<std::string> KeysToCheck(size_t count) {
  std::mt19937 rng(20261202);
  auto uniform = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> symbols = {"SPY", "AAPL", "BRK.B", "ES=F", "X", "EURUSD"};
  const std::vector<std::string> namespaces = {"", "agentic:", "a.b-c_d:"};
  const Partitioning parts(kMaxPartitions);
  std::vector<std::string> keys;
  keys.reserve(count);
  while (keys.size() < count) {
    const size_t kind = keys.size() % 4;
    std::string key;
    if (kind == 0) {  // random bytes, 0-40 of them
      key.resize(uniform(41));
      for (char& c : key) c = static_cast<char>(uniform(256));
    } else if (kind == 1) {  // letters with '{' and '}' dropped in anywhere
      key.resize(1 + uniform(24));
      for (char& c : key) c = static_cast<char>('a' + uniform(26));
      for (size_t braces = uniform(5); braces > 0; --braces) {
        key.insert(key.begin() + static_cast<std::ptrdiff_t>(uniform(key.size() + 1)),
                   uniform(2) == 0 ? '{' : '}');
      }
      if (uniform(8) == 0) key.insert(uniform(key.size() + 1), "{}");
    } else if (kind == 2) {  // the project's keys
      const std::string& ns = namespaces[uniform(namespaces.size())];
      const std::string& sym = symbols[uniform(symbols.size())];
      const std::vector<std::string> shapes = {
          absl::StrCat(ns, "physics:state:", sym), absl::StrCat(ns, "market:snapshot:", sym),
          absl::StrCat(ns, "ops:hb:engine:host-", uniform(100000)),
          absl::StrCat(ns, "ops:leader:engine:", uniform(4), "/4")};
      key = shapes[uniform(shapes.size())];
    } else {  // partition channels and streams: the tags the cluster mode relies on
      const int p = static_cast<int>(uniform(static_cast<size_t>(parts.count())));
      key = uniform(2) == 0 ? parts.Channel(Config{}, p)
                            : parts.Stream(absl::StrCat(namespaces[uniform(3)], "market:ticks"), p);
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

TEST(ClusterKeySlot, EqualsClusterKeyslotForTenThousandKeys) {
  testing::RedisServer server({.cluster_enabled = true});
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();

  const std::vector<std::string> keys = KeysToCheck(10000);
  // hiredis's own pipelining: append every command, then read every reply.
  redisContext* c = conn->raw();
  for (const std::string& key : keys) {
    const char* argv[] = {"CLUSTER", "KEYSLOT", key.data()};
    const size_t lens[] = {7, 7, key.size()};
    ASSERT_EQ(redisAppendCommandArgv(c, 3, argv, lens), REDIS_OK);
  }
  size_t mismatches = 0;
  for (const std::string& key : keys) {
    void* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, &raw), REDIS_OK) << c->errstr;
    const Reply reply(static_cast<redisReply*>(raw));
    ASSERT_EQ(reply->type, REDIS_REPLY_INTEGER) << ReplyText(reply.get());
    if (reply->integer != KeySlot(key) && ++mismatches <= 5) {
      ADD_FAILURE() << "key \"" << absl::CHexEscape(key) << "\": CLUSTER KEYSLOT "
                    << reply->integer << ", KeySlot " << KeySlot(key);
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(ClusterKeySlot, PartitionSlotsAreTheSlotsOfTheirChannelsAndStreams) {
  testing::RedisServer server({.cluster_enabled = true});
  ASSERT_TRUE(server.Start().ok());
  const Partitioning parts(kDefaultPartitions);
  for (int p = 0; p < parts.count(); ++p) {
    EXPECT_EQ(server.Integer({"CLUSTER", "KEYSLOT", parts.Channel(Config{}, p)}), parts.Slot(p));
    EXPECT_EQ(server.Integer({"CLUSTER", "KEYSLOT", parts.Stream("market:ticks", p)}),
              parts.Slot(p));
  }
}

}  // namespace
}  // namespace physics::redis
