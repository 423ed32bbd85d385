#include "engine/cli/redis_flags.h"

#include <cstdlib>
#include <sstream>

#include "gtest/gtest.h"

namespace physics::cli {
namespace {

// Sets the Redis environment for one test and restores a clean one after.
class RedisFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    for (const char* v : {"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD",
                          "REDIS_NAMESPACE", "REDIS_SENTINEL_PASSWORD"}) {
      ::unsetenv(v);
    }
  }
  absl::StatusOr<redis::Config> Resolve(std::vector<const char*> args) {
    FlagSet flags("prog", "x");
    AddRedisFlags(flags, &url_, &ns_);
    args.insert(args.begin(), "prog");
    std::ostringstream out, err;
    EXPECT_FALSE(flags.Parse(static_cast<int>(args.size()), args.data(), out, err)) << err.str();
    return ResolveRedisConfig(flags, url_, ns_);
  }
  std::string url_, ns_;
};

TEST_F(RedisFlagsTest, DefaultsToLocalRedisWithoutNamespace) {
  absl::StatusOr<redis::Config> c = Resolve({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Describe(), "redis://127.0.0.1:6379/0");
  EXPECT_EQ(c->key_namespace, "");
}

TEST_F(RedisFlagsTest, FlagsOverrideTheEnvironmentOneByOne) {
  ::setenv("REDIS_URL", "redis://10.0.0.1:7000/2", 1);
  ::setenv("REDIS_NAMESPACE", "agentic", 1);
  absl::StatusOr<redis::Config> env_only = Resolve({});
  ASSERT_TRUE(env_only.ok());
  EXPECT_EQ(env_only->port, 7000);
  EXPECT_EQ(env_only->key_namespace, "agentic");
  // --redis-url replaces the endpoint but keeps the environment's namespace.
  absl::StatusOr<redis::Config> url = Resolve({"--redis-url", "redis://127.0.0.1:6390/1"});
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 6390);
  EXPECT_EQ(url->key_namespace, "agentic");
  absl::StatusOr<redis::Config> ns = Resolve({"--namespace", "other"});
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->port, 7000);
  EXPECT_EQ(ns->key_namespace, "other");
  EXPECT_EQ(DescribeTarget(*ns), "redis://10.0.0.1:7000/2, namespace other");
}

TEST_F(RedisFlagsTest, SentinelUrlFlagTakesTheSentinelPasswordFromTheEnvironment) {
  ::setenv("REDIS_SENTINEL_PASSWORD", "s-pw", 1);
  absl::StatusOr<redis::Config> c =
      Resolve({"--redis-url", "redis-sentinel://:data-pw@10.0.0.1,10.0.0.2:26380#mymaster"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->master_name, "mymaster");
  EXPECT_EQ(c->password, "data-pw");
  EXPECT_EQ(c->sentinel_password, "s-pw");
  EXPECT_EQ(DescribeTarget(*c), "redis-sentinel://10.0.0.1:26379,10.0.0.2:26380/0#mymaster");
}

TEST_F(RedisFlagsTest, BadValuesAreInvalidArgumentsNamingThem) {
  absl::StatusOr<redis::Config> flag = Resolve({"--redis-url", "http://x"});
  EXPECT_EQ(flag.status().code(), absl::StatusCode::kInvalidArgument);
  ::setenv("REDIS_PORT", "notaport", 1);
  absl::StatusOr<redis::Config> env = Resolve({});
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(env.status().message().find("REDIS_PORT"), absl::string_view::npos) << env.status();
}

}  // namespace
}  // namespace physics::cli
