#include "engine/redis/pipeline.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_reads.h"
#include "tests/support/redis_server.h"

namespace physics::redis {
namespace {

using ::physics::testing::RedisServer;
using ::testing::HasSubstr;

long long Integer(RedisServer& server, std::initializer_list<std::string_view> argv) {
  absl::StatusOr<Reply> r = server.Run(argv);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? (*r)->integer : -1;
}

TEST(Pipeline, AppendEncodesRespAndCounts) {
  Pipeline p;
  EXPECT_TRUE(p.empty());
  p.Append({"SET", "k", "v"});
  p.Append({"PUBLISH", "state_update", "{}"});
  EXPECT_EQ(p.size(), 2u);
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.buffer(),
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
            "*3\r\n$7\r\nPUBLISH\r\n$12\r\nstate_update\r\n$2\r\n{}\r\n");
}

TEST(Pipeline, ClearKeepsTheBuffersCapacity) {
  Pipeline p;
  for (int i = 0; i < 100; ++i) p.Append({"SET", "key", "value"});
  const char* data = p.buffer().data();
  p.Clear();
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.buffer(), "");
  for (int i = 0; i < 100; ++i) p.Append({"SET", "key", "value"});
  EXPECT_EQ(p.buffer().data(), data);
}

TEST(Pipeline, EmptyPipelineExecutesWithoutIo) {
  absl::StatusOr<Connection> none = absl::UnavailableError("never opened");
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  server.Kill();
  Pipeline p;
  EXPECT_TRUE(p.Execute(*conn).ok());
  EXPECT_TRUE(conn->ok());
}

TEST(Pipeline, TenThousandSetAndPublishAllSucceed) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  Pipeline p;
  for (int i = 0; i < 10000; ++i) {
    const std::string key = absl::StrCat("physics:state:S", i);
    const std::string value = absl::StrCat("{\"seq\":", i, "}");
    p.Append({"SET", key, value});
    p.Append({"PUBLISH", "state_update", value});
  }
  ASSERT_EQ(p.size(), 20000u);
  absl::Status s = p.Execute(*conn);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(Integer(server, {"DBSIZE"}), 10000);
  // The reader's own functions are back: replies are real redisReply objects.
  absl::StatusOr<Reply> got = conn->Command({"GET", "physics:state:S9999"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(std::string((*got)->str, (*got)->len), "{\"seq\":9999}");
}

TEST(Pipeline, CountsAnExecAbortedByAWatchedKeyAsANullReply) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  Pipeline p;
  p.Append({"WATCH", "lease"});
  ASSERT_TRUE(p.Execute(*conn).ok());
  EXPECT_EQ(p.null_replies(), 0u);
  ASSERT_EQ(Integer(server, {"SETNX", "lease", "other"}), 1);  // another client
  p.Append({"MULTI"});
  p.Append({"SET", "k", "v"});
  p.Append({"EXEC"});
  p.Append({"MULTI"});
  p.Append({"SET", "k2", "v"});
  p.Append({"EXEC"});  // nothing watched any more: executes
  EXPECT_TRUE(p.Execute(*conn).ok());
  EXPECT_EQ(p.null_replies(), 1u);
  EXPECT_EQ(Integer(server, {"EXISTS", "k"}), 0);
  EXPECT_EQ(Integer(server, {"EXISTS", "k2"}), 1);
}

TEST(Pipeline, ManyMegabytesInBothDirectionsDoNotDeadlock) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  const std::string value(256, 'v');
  const std::string big(100 * 1024, 'b');
  Pipeline p;
  p.Append({"SET", "big", big});
  for (int i = 0; i < 40000; ++i) {
    p.Append({"SET", absl::StrCat("k", i), value});       // ~11 MB of requests
    if (i % 400 == 0) p.Append({"GET", "big"});           // ~10 MB of replies
  }
  absl::Status s = p.Execute(*conn);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Integer(server, {"DBSIZE"}), 40001);
  EXPECT_TRUE(conn->ok());
}

TEST(Pipeline, ErrorReplyIsInternalWithTextAndConnectionStaysUsable) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  p.Append({"SET", "n", "not-a-number"});
  p.Append({"INCR", "n"});
  p.Append({"SET", "after", "1"});
  p.Append({"LPUSH", "n", "x"});
  absl::Status s = p.Execute(*conn);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(),
            "Redis rejected 2 of 4 pipelined commands; first (command #1): "
            "ERR value is not an integer or out of range");
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(conn->ok());
  // Every reply was consumed: the next command gets its own reply.
  absl::StatusOr<Reply> got = conn->Command({"GET", "after"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(std::string((*got)->str, (*got)->len), "1");
  p.Append({"SET", "again", "1"});
  EXPECT_TRUE(p.Execute(*conn).ok());
}

TEST(Pipeline, ErrorInsideExecCounts) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  p.Append({"SET", "n", "abc"});
  p.Append({"MULTI"});
  p.Append({"SET", "m", "1"});
  p.Append({"INCR", "n"});
  p.Append({"EXEC"});
  absl::Status s = p.Execute(*conn);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("1 of 5"));
  EXPECT_THAT(s.message(), HasSubstr("command #4"));
  EXPECT_TRUE(conn->ok());
  EXPECT_TRUE(conn->Command({"PING"}).ok());
}

TEST(Pipeline, RecordsEachErrorReplyWithItsIndexAndText) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  std::vector<Pipeline::ReplyError> errors;
  Pipeline p;
  p.RecordErrors(&errors);
  p.Append({"SET", "n", "abc"});
  p.Append({"INCR", "n"});                                    // #1: an error
  p.Append({"MULTI"});
  p.Append({"INCR", "n"});
  p.Append({"LPUSH", "n", "x"});
  p.Append({"EXEC"});                                         // #5: two nested errors
  p.AppendEncoded("*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n1\r\n*1\r\n$4\r\nPING\r\n", 2);
  p.Append({"HSET", "n", "f", "v"});                          // #8: WRONGTYPE
  EXPECT_EQ(p.size(), 9u);
  EXPECT_EQ(p.Execute(*conn).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(p.replies_read(), 9u);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].reply, 1u);
  EXPECT_THAT(std::string(errors[0].view()), HasSubstr("ERR value is not an integer"));
  EXPECT_EQ(errors[1].reply, 5u);  // the first nested error only
  EXPECT_THAT(std::string(errors[1].view()), HasSubstr("ERR value is not an integer"));
  EXPECT_EQ(errors[2].reply, 8u);
  EXPECT_THAT(std::string(errors[2].view()), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(testing::Get(server, "m"), "1");

  // The next Execute starts a fresh list; without errors it stays empty.
  p.Append({"PING"});
  EXPECT_TRUE(p.Execute(*conn).ok());
  EXPECT_TRUE(errors.empty());
}

TEST(Pipeline, ServerKilledMidPipelineIsUnavailable) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  for (int i = 0; i < 1000; ++i) p.Append({"SET", absl::StrCat("a", i), "1"});
  p.Append({"BLPOP", "nothing-here", "10"});  // holds the replies until the kill
  for (int i = 0; i < 1000; ++i) p.Append({"SET", absl::StrCat("b", i), "1"});

  // Killed mid-pipeline: once Redis has run the first half and is parked in BLPOP.
  std::thread killer([&server] {
    EXPECT_TRUE(
        testing::Eventually([&] { return testing::InfoNumber(server, "blocked_clients") == 1; }).ok());
    server.Kill();
  });
  const absl::Time start = absl::Now();
  absl::Status s = p.Execute(*conn);
  killer.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_FALSE(conn->ok());
  EXPECT_TRUE(p.empty());

  p.Append({"SET", "k", "v"});
  EXPECT_EQ(p.Execute(*conn).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(p.empty());
}

TEST(Pipeline, StalledServerTimesOutAsUnavailable) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn =
      Connection::Open(server.config(), absl::Seconds(1), absl::Milliseconds(100));
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  p.Append({"SET", "k", "v"});
  p.Append({"BLPOP", "nothing-here", "5"});
  absl::Status s = p.Execute(*conn);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("timed out"));
  EXPECT_THAT(s.message(), HasSubstr("got 1 of 2 replies"));
  EXPECT_FALSE(conn->ok());
}

TEST(Pipeline, IsReusableAcrossManyExecutes) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) p.Append({"INCR", absl::StrCat("c", i)});
    ASSERT_TRUE(p.Execute(*conn).ok()) << round;
  }
  absl::StatusOr<Reply> got = conn->Command({"GET", "c42"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string((*got)->str), "50");
}

}  // namespace
}  // namespace physics::redis

namespace physics::redis {
namespace {

TEST(Pipeline, CommandsSentEarlyWithSendNowAreAllAnsweredByExecute) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Pipeline p;
  for (int batch = 0; batch < 50; ++batch) {
    for (int i = 0; i < 100; ++i) {
      p.Append({"INCR", "counter"});
    }
    ASSERT_TRUE(p.SendNow(*conn).ok());
  }
  p.Append({"INCR", "counter"});
  ASSERT_TRUE(p.Execute(*conn).ok());
  EXPECT_TRUE(p.empty());
  absl::StatusOr<Reply> value = server.Run({"GET", "counter"});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(std::string((*value)->str, (*value)->len), "5001");
  // The connection is in step: the next command gets its own reply.
  absl::StatusOr<Reply> pong = conn->Command({"PING"});
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(std::string((*pong)->str, (*pong)->len), "PONG");
}

TEST(Pipeline, SendNowOnADeadServerBreaksTheConnection) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  server.Kill();
  Pipeline p;
  absl::Status status;
  for (int i = 0; i < 1000 && status.ok(); ++i) {
    p.Append({"SET", "k", std::string(1024, 'x')});
    status = p.SendNow(*conn);
  }
  if (status.ok()) status = p.Execute(*conn);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(conn->ok());
}

}  // namespace
}  // namespace physics::redis
