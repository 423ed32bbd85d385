// Connection::Open with a redis-sentinel:// Config, and the READONLY reply of
// a demoted master, against real redis-server and sentinel processes
// (tests/support/sentinel_set.h). A failover takes ~1 s to be noticed
// (down-after) and 1-3 s to complete here.
#include "engine/redis/sentinel.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/redis/connection.h"
#include "engine/redis/pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/net.h"
#include "tests/support/redis_server.h"
#include "tests/support/sentinel_set.h"

namespace physics::redis {
namespace {

using ::physics::testing::RedisServer;
using ::physics::testing::RedisServerOptions;
using ::physics::testing::SentinelProcess;
using ::physics::testing::SentinelSet;
using ::physics::testing::SentinelSetOptions;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kConnect = absl::Seconds(1);
constexpr absl::Duration kIo = absl::Seconds(2);
constexpr absl::Duration kFailoverWait = absl::Seconds(20);

std::string Str(const Reply& r) { return std::string(r->str, r->len); }

std::string Endpoint(int port) { return absl::StrCat("redis://127.0.0.1:", port, "/0"); }

// Open as a reconnect loop would: again until it works or `timeout` passes.
absl::StatusOr<Connection> OpenWithin(const Config& cfg, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
    if (conn.ok() || absl::Now() >= deadline) return conn;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

TEST(SentinelDiscovery, FindsTheMasterAndPutsTheSentinelThatAnsweredFirst) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<int> dead = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(dead.ok());
  // A dead sentinel first: asked, skipped, and moved behind the one that answered.
  absl::StatusOr<Config> cfg = ParseRedisUrl(absl::StrCat(
      "redis-sentinel://127.0.0.1:", *dead, ",127.0.0.1:", set.sentinel(1).port(), "#mymaster"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();

  absl::StatusOr<Connection> conn = Connection::Open(*cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->endpoint(), Endpoint(set.node(0).port()));
  ASSERT_TRUE(conn->Command({"SET", "k", "v"}).ok());
  EXPECT_EQ(set.node(0).String({"GET", "k"}), "v");
  EXPECT_EQ(cfg->sentinels->InOrder().front(), (HostPort{"127.0.0.1", set.sentinel(1).port()}));
}

TEST(SentinelDiscovery, UnknownMasterNameIsUnavailableSayingSo) {
  SentinelSet set({.replicas = 0, .sentinels = 1});
  ASSERT_TRUE(set.Start().ok());
  Config cfg = set.config();
  cfg.master_name = "nosuchmaster";
  absl::StatusOr<Connection> conn = Connection::Open(cfg, absl::Milliseconds(300), kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(),
              AllOf(HasSubstr(absl::StrCat("127.0.0.1:", set.sentinel(0).port(),
                                           ": knows no master named \"nosuchmaster\"")),
                    HasSubstr("#nosuchmaster")));
}

TEST(SentinelDiscovery, DbTheMasterDoesNotHaveIsInvalidArgumentAtOnce) {
  SentinelSet set({.replicas = 0, .sentinels = 1});
  ASSERT_TRUE(set.Start().ok());
  Config cfg = set.config();
  cfg.db = 99;
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(),
              AllOf(HasSubstr(absl::StrCat("127.0.0.1:", set.node(0).port())), HasSubstr("SELECT 99")));
}

TEST(SentinelDiscovery, AllSentinelsDownIsUnavailableNamingEachWithinTheConnectTimeout) {
  absl::StatusOr<int> a = testing::PickUnusedLoopbackPort();
  absl::StatusOr<int> b = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<Config> cfg = ParseRedisUrl(
      absl::StrCat("redis-sentinel://127.0.0.1:", *a, ",127.0.0.1:", *b, "#mymaster"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<Connection> conn = Connection::Open(*cfg, absl::Milliseconds(500), kIo);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(conn.status().message()),
              AllOf(HasSubstr("no master after"), HasSubstr(absl::StrCat("127.0.0.1:", *a, ": cannot connect")),
                    HasSubstr(absl::StrCat("127.0.0.1:", *b, ": cannot connect")),
                    Not(HasSubstr("\n"))));
  EXPECT_GE(took, absl::Milliseconds(400));  // it kept trying ...
  EXPECT_LT(took, absl::Seconds(2));         // ... within a bound
}

TEST(SentinelDiscovery, SentinelNamingAReplicaIsRefusedByRole) {
  RedisServer master;
  ASSERT_TRUE(master.Start().ok());
  RedisServer replica(
      RedisServerOptions{.extra_args = {"--replicaof", "127.0.0.1", absl::StrCat(master.port())}});
  ASSERT_TRUE(replica.Start().ok());
  // A lone sentinel told that the replica is the master answers with its address.
  SentinelProcess sentinel({.master_name = "wrong", .master_port = replica.port(), .quorum = 1});
  ASSERT_TRUE(sentinel.Start().ok());
  absl::StatusOr<Config> cfg =
      ParseRedisUrl(absl::StrCat("redis-sentinel://127.0.0.1:", sentinel.port(), "#wrong"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();

  absl::StatusOr<Connection> conn = Connection::Open(*cfg, absl::Milliseconds(300), kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(),
              HasSubstr(absl::StrCat("names master 127.0.0.1:", replica.port(),
                                     " (says ROLE slave, not master)")));
}

TEST(SentinelDiscovery, OnlyTheFirstSentinelToAnswerMovesToTheFront) {
  absl::StatusOr<int> dead_master = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(dead_master.ok());
  SentinelProcess a({.master_port = *dead_master, .quorum = 1});
  SentinelProcess b({.master_port = *dead_master, .quorum = 1});
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  absl::StatusOr<int> dead_sentinel = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(dead_sentinel.ok());
  absl::StatusOr<Config> cfg =
      ParseRedisUrl(absl::StrCat("redis-sentinel://127.0.0.1:", *dead_sentinel, ",127.0.0.1:",
                                 a.port(), ",127.0.0.1:", b.port(), "#mymaster"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();

  // Both name the dead master; a, the first to answer, goes first, and stays
  // there call after call, so the error reads the same each time.
  auto last_round = [&cfg] {
    absl::StatusOr<Connection> conn = Connection::Open(*cfg, absl::Milliseconds(200), kIo);
    EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
    const std::string text(conn.status().message());
    return text.substr(std::min(text.size(), text.find("last round: ")));
  };
  const std::string first = last_round();
  EXPECT_THAT(first, HasSubstr(absl::StrCat("last round: 127.0.0.1:", a.port(), ": names master")));
  EXPECT_EQ(last_round(), first);
  EXPECT_EQ(cfg->sentinels->InOrder(),
            (std::vector<HostPort>{{"127.0.0.1", a.port()},
                                   {"127.0.0.1", *dead_sentinel},
                                   {"127.0.0.1", b.port()}}));
}

TEST(SentinelDiscovery, SentinelAndDataNodePasswordsAreEachChecked) {
  SentinelSet set({.replicas = 1, .sentinels = 2, .data_password = "data-pw",
                   .sentinel_password = "sentinel-pw"});
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<Connection> conn = Connection::Open(set.config(), kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_TRUE(conn->Command({"SET", "k", "v"}).ok());

  Config no_sentinel_password = set.config();
  no_sentinel_password.sentinel_password.clear();
  conn = Connection::Open(no_sentinel_password, absl::Milliseconds(300), kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnauthenticated) << conn.status();
  EXPECT_THAT(conn.status().message(), AllOf(HasSubstr("every sentinel refused"), HasSubstr("NOAUTH")));

  Config wrong_data_password = set.config();
  wrong_data_password.password = "wrong";
  conn = Connection::Open(wrong_data_password, absl::Milliseconds(300), kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnauthenticated) << conn.status();
  EXPECT_THAT(conn.status().message(),
              AllOf(HasSubstr(Endpoint(set.node(0).port())), Not(HasSubstr("wrong"))));
}

TEST(SentinelFailover, ReconnectAfterTheMasterIsKilledLandsOnThePromotedReplica) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<Connection> conn = Connection::Open(set.config(), kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(conn->Command({"SET", "k", "before"}).ok());
  ASSERT_TRUE(conn->Command({"WAIT", "2", "1000"}).ok());  // both replicas have it

  const int old_port = set.node(0).port();
  set.node(0).Kill();
  EXPECT_EQ(conn->Command({"SET", "k", "lost"}).status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<int> new_port = set.WaitForNewMaster(old_port, kFailoverWait);
  ASSERT_TRUE(new_port.ok()) << new_port.status();

  absl::StatusOr<Connection> again = OpenWithin(set.config(), absl::Seconds(5));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->endpoint(), Endpoint(*new_port));
  absl::StatusOr<Reply> got = again->Command({"GET", "k"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Str(*got), "before");
  EXPECT_TRUE(again->Command({"SET", "k", "after"}).ok());
}

TEST(SentinelFailover, WriteToTheStalledOldMasterFailsAndTheReconnectFindsTheNewOne) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  absl::StatusOr<Connection> conn = Connection::Open(set.config(), kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(conn->Command({"SET", "k", "before"}).ok());

  // Stalled past down-after: promoted around it. When it wakes, the sentinels
  // make it a replica of the new master (and drop its clients).
  const int old_port = set.node(0).port();
  ASSERT_TRUE(set.Pause(0).ok());
  absl::StatusOr<int> new_port = set.WaitForNewMaster(old_port, kFailoverWait);
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  ASSERT_TRUE(set.Resume(0).ok());
  ASSERT_TRUE(set.WaitForRole(0, "slave", kFailoverWait).ok());

  Pipeline pipeline;
  pipeline.Append({"SET", "k", "to-the-old-master"});
  EXPECT_EQ(pipeline.Execute(*conn).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(conn->ok());
  absl::StatusOr<Connection> again = OpenWithin(set.config(), absl::Seconds(5));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->endpoint(), Endpoint(*new_port));
  pipeline.Append({"SET", "k", "to-the-new-master"});
  EXPECT_TRUE(pipeline.Execute(*again).ok());
}

TEST(SentinelWatch, AnnouncedSwitchBreaksAConnectionToTheStalledOldMasterAtOnce) {
  SentinelSet set;
  ASSERT_TRUE(set.Start().ok());
  const Config cfg = set.config();
  // A long I/O timeout: without the announcement, a stalled master would
  // hold the next command this long.
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, absl::Seconds(30));
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(set.Pause(0).ok());
  ASSERT_TRUE(set.WaitForNewMaster(set.node(0).port(), kFailoverWait).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (cfg.sentinels->switches() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(cfg.sentinels->switches(), 1u);

  const absl::Time start = absl::Now();
  absl::StatusOr<Reply> r = conn->Command({"PING"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("the sentinels announced a new master"));
  EXPECT_FALSE(conn->ok());
  absl::StatusOr<Connection> again = Connection::Open(cfg, kConnect, kIo);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->Command({"PING"}).ok());  // a connection opened after the switch is kept
  ASSERT_TRUE(set.Resume(0).ok());
}

TEST(SentinelWatch, AnnouncementOfTheConnectedMasterKeepsTheConnectionAnyOtherBreaksIt) {
  SentinelSet set({.replicas = 0, .sentinels = 1});
  ASSERT_TRUE(set.Start().ok());
  const Config cfg = set.config();
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  // Asked just before the announcement, it found the new master already.
  cfg.sentinels->NoteSwitch({"127.0.0.1", set.node(0).port()});
  EXPECT_TRUE(conn->Command({"PING"}).ok());
  cfg.sentinels->NoteSwitch({"127.0.0.1", 1});
  absl::StatusOr<Reply> r = conn->Command({"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("announced a new master, 127.0.0.1:1"));
}

// A demotion without Sentinel's client kill (an operator's REPLICAOF, or a
// write that reaches the old master first) shows as READONLY replies.
class DemotedMaster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(old_master_.Start().ok());
    ASSERT_TRUE(new_master_.Start().ok());
    absl::StatusOr<Connection> conn = old_master_.Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_.emplace(*std::move(conn));
    ASSERT_TRUE(conn_->Command({"SET", "k", "v"}).ok());
    ASSERT_TRUE(
        old_master_.Run({"REPLICAOF", "127.0.0.1", absl::StrCat(new_master_.port())}).ok());
  }

  RedisServer old_master_;
  RedisServer new_master_;
  std::optional<Connection> conn_;
};

TEST_F(DemotedMaster, ReadOnlyReplyToACommandBreaksTheConnection) {
  absl::StatusOr<Reply> r = conn_->Command({"SET", "k", "w"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), AllOf(HasSubstr("no longer the master"), HasSubstr("READONLY")));
  EXPECT_FALSE(conn_->ok());
}

TEST_F(DemotedMaster, ReadOnlyReplyInAPipelineBreaksTheConnection) {
  Pipeline pipeline;
  pipeline.Append({"PUBLISH", "c", "m"});  // allowed on a replica
  pipeline.Append({"SET", "k", "w"});
  pipeline.Append({"PING"});
  absl::Status s = pipeline.Execute(*conn_);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("READONLY"));
  EXPECT_FALSE(conn_->ok());
}

TEST_F(DemotedMaster, OtherErrorRepliesStillKeepTheConnection) {
  absl::StatusOr<Reply> r = conn_->Command({"NOSUCHCOMMAND"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(conn_->ok());
}

}  // namespace
}  // namespace physics::redis
