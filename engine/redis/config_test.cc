#include "engine/redis/config.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace physics::redis {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A fake environment for ConfigFromEnv.
class FakeEnv {
 public:
  FakeEnv(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}
  std::function<const char*(const char*)> getenv() const {
    return [this](const char* name) -> const char* {
      auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

TEST(RedisUrl, ParsesHostPortAndDb) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://redis.internal:6380/3");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->host, "redis.internal");
  EXPECT_EQ(cfg->port, 6380);
  EXPECT_EQ(cfg->db, 3);
  EXPECT_EQ(cfg->user, "");
  EXPECT_EQ(cfg->password, "");
  EXPECT_EQ(cfg->unix_path, "");
}

TEST(RedisUrl, PortAndDbDefaultTo6379And0) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->host, "localhost");
  EXPECT_EQ(cfg->port, 6379);
  EXPECT_EQ(cfg->db, 0);
  ASSERT_TRUE(ParseRedisUrl("redis://localhost:6379/").ok());
}

TEST(RedisUrl, ParsesUserAndPassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://alice:s3cret@10.0.0.5:6379/0");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->user, "alice");
  EXPECT_EQ(cfg->password, "s3cret");
  EXPECT_EQ(cfg->host, "10.0.0.5");
}

TEST(RedisUrl, ParsesPasswordWithoutUser) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://:s3cret@127.0.0.1:6379/1");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->user, "");
  EXPECT_EQ(cfg->password, "s3cret");
  EXPECT_EQ(cfg->db, 1);
}

TEST(RedisUrl, UserInfoWithoutColonIsThePasswordAsInRedisCli) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://s3cret@127.0.0.1");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->user, "");
  EXPECT_EQ(cfg->password, "s3cret");
}

TEST(RedisUrl, DecodesPercentEscapesInCredentials) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://al%69ce:p%40ss%3Aword@h:1/0");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->user, "alice");
  EXPECT_EQ(cfg->password, "p@ss:word");
}

TEST(RedisUrl, LastAtSignSeparatesCredentialsFromHost) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://:p@ss@h:6379");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->password, "p@ss");
  EXPECT_EQ(cfg->host, "h");
}

TEST(RedisUrl, ParsesBracketedIpv6Host) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://[::1]:7000/2");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->host, "::1");
  EXPECT_EQ(cfg->port, 7000);
  EXPECT_EQ(cfg->Describe(), "redis://[::1]:7000/2");
}

TEST(RedisUrl, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(ParseRedisUrl("REDIS://h:1").ok());
}

TEST(RedisUrl, ParsesUnixSocket) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("unix:///var/run/redis/redis.sock");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->unix_path, "/var/run/redis/redis.sock");
  EXPECT_EQ(cfg->db, 0);
  EXPECT_EQ(cfg->Describe(), "unix:///var/run/redis/redis.sock");
}

TEST(RedisUrl, ParsesUnixSocketWithDbAndPassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("unix://:pw@/tmp/r.sock?db=4");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->unix_path, "/tmp/r.sock");
  EXPECT_EQ(cfg->password, "pw");
  EXPECT_EQ(cfg->db, 4);
  EXPECT_EQ(cfg->Describe(), "unix:///tmp/r.sock?db=4");
}

TEST(RedisUrl, RejectsRelativeUnixPath) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("unix://redis.sock");
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cfg.status().message(), HasSubstr("must be absolute"));
}

TEST(RedisUrl, RejectsPortOutOfRange) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://localhost:65536/0");
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cfg.status().message(),
              AllOf(HasSubstr("\"redis://localhost:65536/0\""), HasSubstr("port \"65536\""),
                    HasSubstr("1-65535"), HasSubstr("accepted: redis://")));
  EXPECT_FALSE(ParseRedisUrl("redis://localhost:0").ok());
}

TEST(RedisUrl, RejectsNonNumericPort) {
  EXPECT_EQ(ParseRedisUrl("redis://localhost:http").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://localhost:-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://localhost:").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RedisUrl, RejectsNonNumericDb) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://localhost:6379/zero");
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cfg.status().message(), HasSubstr("db \"zero\""));
}

TEST(RedisUrl, RejectsMissingHost) {
  EXPECT_EQ(ParseRedisUrl("redis://:6379").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisUrl, RejectsOtherSchemesAndTls) {
  EXPECT_THAT(ParseRedisUrl("http://localhost").status().message(), HasSubstr("unknown scheme"));
  EXPECT_THAT(ParseRedisUrl("localhost:6379").status().message(), HasSubstr("unknown scheme"));
  EXPECT_THAT(ParseRedisUrl("rediss://localhost").status().message(), HasSubstr("TLS"));
}

TEST(RedisUrl, RejectsQueryParametersOnTcp) {
  EXPECT_EQ(ParseRedisUrl("redis://h:1/0?timeout=1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RedisUrl, RejectsBadPercentEscape) {
  EXPECT_EQ(ParseRedisUrl("redis://:pw%zz@h").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://:pw%4@h").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisUrl, ErrorMessageMasksThePassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://alice:hunter2@localhost:99999");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              AllOf(Not(HasSubstr("hunter2")), HasSubstr("redis://alice:***@localhost:99999")));
  EXPECT_THAT(ParseRedisUrl("redis://hunter2@h:x").status().message(), Not(HasSubstr("hunter2")));
}

TEST(RedisUrl, ErrorMessageIsOneLine) {
  EXPECT_THAT(std::string(ParseRedisUrl("redis://h:x").status().message()),
              Not(HasSubstr("\n")));
}

TEST(SentinelUrl, ParsesSentinelsDbAndMasterName) {
  absl::StatusOr<Config> cfg =
      ParseRedisUrl("redis-sentinel://alice:s3cret@s1:26380,10.0.0.7,[::1]:5000/2#mymaster");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_TRUE(cfg->uses_sentinels());
  EXPECT_EQ(cfg->sentinels->addresses(),
            (std::vector<HostPort>{{"s1", 26380}, {"10.0.0.7", 26379}, {"::1", 5000}}));
  EXPECT_EQ(cfg->master_name, "mymaster");
  EXPECT_EQ(cfg->user, "alice");  // the data nodes' credentials, as in Lettuce
  EXPECT_EQ(cfg->password, "s3cret");
  EXPECT_EQ(cfg->sentinel_password, "");
  EXPECT_EQ(cfg->db, 2);
  EXPECT_EQ(cfg->Describe(), "redis-sentinel://alice@s1:26380,10.0.0.7:26379,[::1]:5000/2#mymaster");
}

TEST(SentinelUrl, OneSentinelWithDefaultPortAndDb) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("REDIS-SENTINEL://localhost#ha.main_1-a");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->sentinels->addresses(), (std::vector<HostPort>{{"localhost", 26379}}));
  EXPECT_EQ(cfg->db, 0);
  EXPECT_EQ(cfg->master_name, "ha.main_1-a");
}

TEST(SentinelUrl, HashInPasswordIsNotTheMasterName) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-sentinel://:pa#ss@h:1#m");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->password, "pa#ss");
  EXPECT_EQ(cfg->master_name, "m");
}

TEST(SentinelUrl, RejectsMissingOrBadMasterNameNamingIt) {
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://h:26379").status().message(),
              AllOf(HasSubstr("missing #MASTER"), HasSubstr("accepted: ")));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://h#").status().message(),
              HasSubstr("master name after '#' must be 1 or more of [A-Za-z0-9._-]"));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://h#my master").status().message(),
              HasSubstr("master name after '#'"));
  // A '#' typed before the password must not show the password as a name.
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://a#b:hunter2@h").status().message(),
              Not(HasSubstr("hunter2")));
}

TEST(SentinelUrl, RejectsEmptyOrBadSentinelAddresses) {
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://#m").status().message(),
              HasSubstr("empty sentinel address"));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://a,,b#m").status().message(),
              HasSubstr("empty sentinel address"));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://a:1,b:99999#m").status().message(),
              AllOf(HasSubstr("port \"99999\""), HasSubstr("1-65535")));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://[::1#m").status().message(),
              HasSubstr("unterminated [IPv6] host"));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://a/x#m").status().message(), HasSubstr("db \"x\""));
  EXPECT_THAT(ParseRedisUrl("redis-sentinel://a?x=1#m").status().message(),
              HasSubstr("query parameters"));
}

TEST(SentinelUrl, ErrorsAreOneLineAndMaskThePassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-sentinel://alice:hunter2@a,,b#m");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cfg.status().message()),
              AllOf(Not(HasSubstr("hunter2")), Not(HasSubstr("\n")),
                    HasSubstr("redis-sentinel://alice:***@a,,b#m")));
}

TEST(SentinelUrl, CopiesShareTheSentinelOrder) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-sentinel://a,b,c#m");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Config copy = *cfg;
  copy.sentinels->Prefer({"c", 26379});
  EXPECT_EQ(cfg->sentinels->InOrder(),
            (std::vector<HostPort>{{"c", 26379}, {"a", 26379}, {"b", 26379}}));
  copy.sentinels->Prefer({"unknown", 1});
  EXPECT_EQ(cfg->sentinels->InOrder().front(), (HostPort{"c", 26379}));
  // Describe() keeps the URL's order.
  EXPECT_EQ(cfg->Describe(), "redis-sentinel://a:26379,b:26379,c:26379/0#m");
}

TEST(ClusterUrl, ParsesSeedsWithDefaultPortAndCredentials) {
  absl::StatusOr<Config> cfg =
      ParseRedisUrl("redis-cluster://alice:s3cret@n1:7000,10.0.0.7,[::1]:7002");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_TRUE(cfg->uses_cluster());
  EXPECT_FALSE(cfg->uses_sentinels());
  EXPECT_EQ(cfg->cluster_seeds,
            (std::vector<HostPort>{{"n1", 7000}, {"10.0.0.7", 6379}, {"::1", 7002}}));
  EXPECT_EQ(cfg->user, "alice");
  EXPECT_EQ(cfg->password, "s3cret");
  EXPECT_EQ(cfg->db, 0);
  EXPECT_EQ(cfg->Describe(), "redis-cluster://alice@n1:7000,10.0.0.7:6379,[::1]:7002");
}

TEST(ClusterUrl, AcceptsDbZeroAndAHashInThePassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("Redis-Cluster://:pa#ss@h/0");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->password, "pa#ss");
  EXPECT_EQ(cfg->cluster_seeds, (std::vector<HostPort>{{"h", 6379}}));
  EXPECT_EQ(cfg->Describe(), "redis-cluster://h:6379");
  EXPECT_TRUE(ParseRedisUrl("redis-cluster://h/").ok());
}

TEST(ClusterUrl, RejectsOtherDbsFragmentsAndBadSeedsNamingThePart) {
  EXPECT_THAT(ParseRedisUrl("redis-cluster://h:7000/1").status().message(),
              AllOf(HasSubstr("db 1: a Redis Cluster has db 0 only"), HasSubstr("accepted: ")));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://h:7000#m").status().message(),
              HasSubstr("no #fragment"));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://").status().message(),
              HasSubstr("empty seed node address"));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://a,,b").status().message(),
              HasSubstr("empty seed node address"));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://a:0").status().message(),
              AllOf(HasSubstr("port \"0\""), HasSubstr("1-65535")));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://a/x").status().message(), HasSubstr("db \"x\""));
  EXPECT_THAT(ParseRedisUrl("redis-cluster://a?x=1").status().message(),
              HasSubstr("query parameters"));
}

TEST(ClusterUrl, ErrorsAreOneLineInvalidArgumentAndMaskThePassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-cluster://alice:hunter2@a,,b");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cfg.status().message()),
              AllOf(Not(HasSubstr("hunter2")), Not(HasSubstr("\n")),
                    HasSubstr("redis-cluster://alice:***@a,,b")));
}

TEST(ClusterUrl, RedisPasswordFillsAClusterUrlWithoutPassword) {
  FakeEnv env{{"REDIS_URL", "redis-cluster://h1:7000,h2:7001"}, {"REDIS_PASSWORD", "pw"}};
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->password, "pw");
  EXPECT_EQ(cfg->cluster_seeds.size(), 2u);
}

TEST(RedisUrl, UnknownSchemeListsTheAcceptedForms) {
  EXPECT_THAT(ParseRedisUrl("sentinel://h#m").status().message(),
              AllOf(HasSubstr("redis://"), HasSubstr("unix://"), HasSubstr("redis-sentinel://"),
                    HasSubstr("redis-cluster://")));
}

TEST(RedisConfig, DescribeNeverShowsThePassword) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis://alice:hunter2@h:6380/2");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->Describe(), "redis://alice@h:6380/2");
  cfg = ParseRedisUrl("redis://:hunter2@h");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->Describe(), "redis://h:6379/0");
}

TEST(RedisConfig, KeyIsPlainWithoutNamespace) {
  Config cfg;
  EXPECT_EQ(cfg.Key("physics:state:SPY"), "physics:state:SPY");
}

TEST(RedisConfig, KeyIsPrefixedWithNamespace) {
  Config cfg;
  cfg.key_namespace = "agentic";
  EXPECT_EQ(cfg.Key("physics:state:SPY"), "agentic:physics:state:SPY");
  std::string out = "x";
  cfg.AppendKey(out, "state_update");
  EXPECT_EQ(out, "xagentic:state_update");
}

TEST(RedisNamespace, AcceptsEmptyAndDropsTrailingColons) {
  EXPECT_EQ(*ParseNamespace(""), "");
  EXPECT_EQ(*ParseNamespace("agentic"), "agentic");
  EXPECT_EQ(*ParseNamespace("agentic:"), "agentic");
  EXPECT_EQ(*ParseNamespace("team-a:prod.v2"), "team-a:prod.v2");
}

TEST(RedisNamespace, RejectsSpacesOnlyColonsAndOverlongNames) {
  EXPECT_FALSE(ParseNamespace("a b").ok());
  EXPECT_FALSE(ParseNamespace(":").ok());
  EXPECT_FALSE(ParseNamespace(std::string(65, 'a')).ok());
  EXPECT_FALSE(ParseNamespace("a*").ok());
}

TEST(RedisEnv, DefaultsToLocalhost6379Db0WithoutNamespace) {
  FakeEnv env({});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->Describe(), "redis://127.0.0.1:6379/0");
  EXPECT_EQ(cfg->key_namespace, "");
  EXPECT_EQ(cfg->password, "");
}

TEST(RedisEnv, ReadsRedisUrl) {
  FakeEnv env({{"REDIS_URL", "redis://:pw@cache:6390/5"}, {"REDIS_HOST", "ignored"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->host, "cache");
  EXPECT_EQ(cfg->port, 6390);
  EXPECT_EQ(cfg->db, 5);
  EXPECT_EQ(cfg->password, "pw");
}

TEST(RedisEnv, RedisPasswordFillsAUrlWithoutPassword) {
  FakeEnv env({{"REDIS_URL", "redis://cache:6390"}, {"REDIS_PASSWORD", "pw"}});
  EXPECT_EQ(ConfigFromEnv(env.getenv())->password, "pw");
  FakeEnv both({{"REDIS_URL", "redis://:url@cache"}, {"REDIS_PASSWORD", "env"}});
  EXPECT_EQ(ConfigFromEnv(both.getenv())->password, "url");
}

TEST(RedisEnv, ReadsHostPortDbPassword) {
  FakeEnv env({{"REDIS_HOST", "10.1.2.3"},
               {"REDIS_PORT", "6400"},
               {"REDIS_DB", "2"},
               {"REDIS_PASSWORD", "pw"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->host, "10.1.2.3");
  EXPECT_EQ(cfg->port, 6400);
  EXPECT_EQ(cfg->db, 2);
  EXPECT_EQ(cfg->password, "pw");
}

TEST(RedisEnv, EmptyVariablesCountAsUnset) {
  FakeEnv env({{"REDIS_URL", ""}, {"REDIS_PORT", ""}, {"REDIS_NAMESPACE", ""}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->Describe(), "redis://127.0.0.1:6379/0");
}

TEST(RedisEnv, RejectsBadPortNamingVariableAndAcceptedRange) {
  FakeEnv env({{"REDIS_PORT", "63a9"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cfg.status().message(), "invalid REDIS_PORT=\"63a9\"; accepted: an integer in 1-65535");
}

TEST(RedisEnv, RejectsBadDb) {
  FakeEnv env({{"REDIS_DB", "-1"}});
  EXPECT_THAT(ConfigFromEnv(env.getenv()).status().message(), HasSubstr("REDIS_DB=\"-1\""));
}

TEST(RedisEnv, RejectsBadUrlNamingTheVariable) {
  FakeEnv env({{"REDIS_URL", "redis://:pw@h:70000"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cfg.status().message(), AllOf(HasSubstr("REDIS_URL"), Not(HasSubstr("pw@"))));
}

TEST(RedisEnv, ReadsSentinelPasswordApartFromTheDataPassword) {
  FakeEnv env({{"REDIS_URL", "redis-sentinel://h1,h2#mymaster"},
               {"REDIS_PASSWORD", "data-pw"},
               {"REDIS_SENTINEL_PASSWORD", "sentinel-pw"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->password, "data-pw");
  EXPECT_EQ(cfg->sentinel_password, "sentinel-pw");
  EXPECT_THAT(cfg->Describe(), AllOf(Not(HasSubstr("pw")), HasSubstr("#mymaster")));
}

TEST(RedisEnv, ReadsNamespace) {
  FakeEnv env({{"REDIS_NAMESPACE", "agentic"}});
  absl::StatusOr<Config> cfg = ConfigFromEnv(env.getenv());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->Key("physics:state:SPY"), "agentic:physics:state:SPY");
}

TEST(RedisEnv, RejectsBadNamespace) {
  FakeEnv env({{"REDIS_NAMESPACE", "my ns"}});
  EXPECT_THAT(ConfigFromEnv(env.getenv()).status().message(),
              HasSubstr("REDIS_NAMESPACE=\"my ns\""));
}

}  // namespace
}  // namespace physics::redis
