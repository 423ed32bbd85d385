// Connection against a real redis-server (tests/support/redis_server.h).
#include "engine/redis/connection.h"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/net.h"
#include "tests/support/redis_server.h"

namespace physics::redis {
namespace {

using ::physics::testing::RedisServer;
using ::physics::testing::RedisServerOptions;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kConnect = absl::Seconds(1);
constexpr absl::Duration kIo = absl::Seconds(5);

std::string Str(const Reply& r) { return std::string(r->str, r->len); }

TEST(RedisConnection, OpensAndRoundTripsABinaryValue) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = Connection::Open(server.config(), kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string value("a\r\n\0b", 5);
  ASSERT_TRUE(conn->Command({"SET", "k", value}).ok());
  absl::StatusOr<Reply> got = conn->Command({"GET", "k"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)->type, REDIS_REPLY_STRING);
  EXPECT_EQ(Str(*got), value);
  EXPECT_TRUE(conn->ok());
}

TEST(RedisConnection, ClosedPortIsUnavailableQuickly) {
  absl::StatusOr<int> port = testing::PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  Config cfg;
  cfg.port = *port;
  const absl::Time start = absl::Now();
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_THAT(conn.status().message(), HasSubstr(cfg.Describe()));
}

TEST(RedisConnection, ErrorReplyKeepsConnectionUsable) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(conn->Command({"SET", "k", "not-a-number"}).ok());
  absl::StatusOr<Reply> r = conn->Command({"INCR", "k"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("ERR value is not an integer"));
  r = conn->Command({"LPUSH", "k", "x"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("WRONGTYPE"));
  EXPECT_TRUE(conn->ok());
  EXPECT_TRUE(conn->Command({"PING"}).ok());
}

TEST(RedisConnection, ClusterConfigIsRefusedInOneLine) {
  absl::StatusOr<Config> cfg = ParseRedisUrl("redis-cluster://127.0.0.1:1,127.0.0.1:2");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  absl::StatusOr<Connection> conn = Connection::Open(*cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(conn.status().message(),
            "redis-cluster://127.0.0.1:1,127.0.0.1:2: a redis-cluster:// URL needs a cluster "
            "client");
}

// A redis:// URL that leads to a cluster node: one line saying what to use,
// whatever the handshake (PING, AUTH, SELECT N), instead of MOVED replies later.
TEST(RedisConnection, RedisUrlToAClusterNodeIsRefusedInOneLine) {
  RedisServer server({.password = "pw", .cluster_enabled = true});
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Connect().ok());  // a node's own Config (cluster_node) is accepted
  Config cfg = server.config();
  cfg.cluster_node = false;
  for (int db : {0, 3}) {
    cfg.db = db;
    absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
    EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument) << conn.status();
    EXPECT_EQ(conn.status().message(), absl::StrCat("Redis ", cfg.Describe(),
                                                    " is a Redis Cluster node: use "
                                                    "redis-cluster://127.0.0.1:",
                                                    server.port()));
  }
  cfg.db = 0;
  cfg.password = "wrong";  // credentials are checked first
  EXPECT_EQ(Connection::Open(cfg, kConnect, kIo).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// The handshake (AUTH, SELECT, the cluster question) goes out in one write,
// and the server's replies come back in one: a server that answers only what
// its first read brought would leave a second round trip hanging.
TEST(RedisConnection, HandshakeIsOneRoundTrip) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::string first_read;
  std::thread server([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) first_read.assign(buf, static_cast<size_t>(n));
    const std::string_view replies = "+OK\r\n+OK\r\n-ERR This instance has cluster support disabled\r\n";
    (void)!::send(fd, replies.data(), replies.size(), MSG_NOSIGNAL);
    char rest[16];
    (void)!::recv(fd, rest, sizeof(rest), 0);  // until the client closes
    ::close(fd);
  });
  Config cfg;
  cfg.port = ntohs(addr.sin_port);
  cfg.password = "pw";
  cfg.db = 2;
  {
    absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, absl::Seconds(2));
    EXPECT_TRUE(conn.ok()) << conn.status();
  }
  server.join();
  ::close(listener);
  EXPECT_EQ(first_read,
            "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
            "*2\r\n$7\r\nCLUSTER\r\n$4\r\nMYID\r\n");
}

TEST(RedisConnection, RightPasswordWorks) {
  RedisServer server({.password = "secret"});
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  ASSERT_EQ(cfg.password, "secret");
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_TRUE(conn->Command({"SET", "k", "v"}).ok());
}

TEST(RedisConnection, WrongPasswordIsUnauthenticatedAndNotLogged) {
  RedisServer server({.password = "secret"});
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.password = "hunter2";
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(conn.status().message(), HasSubstr("WRONGPASS"));
  EXPECT_THAT(conn.status().message(), Not(HasSubstr("hunter2")));
}

TEST(RedisConnection, MissingPasswordIsUnauthenticatedAtOpen) {
  RedisServer server({.password = "secret"});
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.password.clear();
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(conn.status().message(), HasSubstr("NOAUTH"));
}

TEST(RedisConnection, PasswordForServerWithoutOneIsUnauthenticated) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.password = "secret";
  EXPECT_EQ(Connection::Open(cfg, kConnect, kIo).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// Also a user not allowed to ask CLUSTER MYID (the handshake's cluster check).
TEST(RedisConnection, AclUserWorks) {
  RedisServer server({.extra_args = {"--user", "writer", "on", ">wpass", "~*", "&*", "+@all",
                                     "-flushall", "-cluster"}});
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.user = "writer";
  cfg.password = "wpass";
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<Reply> who = conn->Command({"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(Str(*who), "writer");
  EXPECT_EQ(conn->Command({"FLUSHALL"}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(conn->ok());

  cfg.password = "nope";
  EXPECT_EQ(Connection::Open(cfg, kConnect, kIo).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(RedisConnection, AclUserWithoutSelectRightIsPermissionDenied) {
  RedisServer server({.extra_args = {"--user", "reader", "on", ">rpass", "~*", "+get"}});
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.user = "reader";
  cfg.password = "rpass";
  cfg.db = 1;
  EXPECT_EQ(Connection::Open(cfg, kConnect, kIo).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RedisConnection, SelectsTheConfiguredDb) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.db = 3;
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(conn->Command({"SET", "in3", "yes"}).ok());
  absl::StatusOr<Reply> reply = server.Run({"EXISTS", "in3"});  // db 0
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ((*reply)->integer, 0);
  reply = conn->Command({"CLIENT", "INFO"});
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(Str(*reply), HasSubstr(" db=3 "));
}

TEST(RedisConnection, DbOutOfRangeIsInvalidArgument) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  Config cfg = server.config();
  cfg.db = 99;
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kConnect, kIo);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("SELECT 99"));
}

TEST(RedisConnection, UnixSocketWorks) {
  RedisServer server({.unix_socket = true});
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Config> cfg = ParseRedisUrl("unix://" + server.unix_socket_path() + "?db=2");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  absl::StatusOr<Connection> conn = Connection::Open(*cfg, kConnect, kIo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<Reply> info = conn->Command({"CLIENT", "INFO"});
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(Str(*info), HasSubstr(" db=2 "));
  EXPECT_THAT(Str(*info), HasSubstr("laddr=" + server.unix_socket_path()));
}

TEST(RedisConnection, ServerKilledMakesCommandUnavailableAndBreaksConnection) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  server.Kill();
  absl::StatusOr<Reply> r = conn->Command({"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(conn->ok());
  // Further use fails fast with the reason, never crashes.
  EXPECT_EQ(conn->Command({"PING"}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(conn->ReadReply().status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> again = server.Connect();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->Command({"PING"}).ok());
}

TEST(RedisConnection, IoTimeoutIsUnavailableAndBreaksConnection) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn =
      Connection::Open(server.config(), kConnect, absl::Milliseconds(100));
  ASSERT_TRUE(conn.ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<Reply> r = conn->Command({"BLPOP", "empty", "5"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(conn->ok());
}

TEST(RedisConnection, SubscriberReadsPublishedMessages) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> sub = server.Connect();
  ASSERT_TRUE(sub.ok());
  absl::StatusOr<Reply> ack = sub->Command({"SUBSCRIBE", "state_update"});
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_EQ((*ack)->type, REDIS_REPLY_ARRAY);

  // Nothing published yet: a bounded wait times out and leaves the connection usable.
  EXPECT_EQ(sub->ReadReplyWithin(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(sub->ok());

  ASSERT_TRUE(server.Run({"PUBLISH", "state_update", "{\"seq\":1}"}).ok());
  absl::StatusOr<Reply> msg = sub->ReadReply();
  ASSERT_TRUE(msg.ok()) << msg.status();
  ASSERT_EQ((*msg)->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ((*msg)->elements, 3u);
  EXPECT_EQ(std::string((*msg)->element[0]->str), "message");
  EXPECT_EQ(std::string((*msg)->element[2]->str), "{\"seq\":1}");
}

TEST(RedisConnection, WakeFdEndsASubscribersWaitAndKeepsTheConnection) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> sub = server.Connect();
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(sub->Command({"SUBSCRIBE", "quiet"}).ok());
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  std::thread waker([wake] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const uint64_t one = 1;
    ASSERT_EQ(write(wake, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  });
  // Without the wake-up this waits a minute.
  const absl::Time start = absl::Now();
  EXPECT_EQ(sub->ReadReplyWithin(absl::Minutes(1), wake).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  waker.join();
  EXPECT_TRUE(sub->ok());

  // Still in step: once the wake-up is consumed, the next message is read.
  uint64_t wakes = 0;
  ASSERT_EQ(read(wake, &wakes, sizeof(wakes)), static_cast<ssize_t>(sizeof(wakes)));
  ASSERT_TRUE(server.Run({"PUBLISH", "quiet", "after"}).ok());
  absl::StatusOr<Reply> msg = sub->ReadReplyWithin(absl::Seconds(10), wake);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(std::string((*msg)->element[2]->str), "after");
  close(wake);
}

TEST(RedisConnection, QuietSubscriptionTimesOutWithoutBreakingTheConnection) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> sub =
      Connection::Open(server.config(), kConnect, absl::Milliseconds(50));
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(sub->Command({"SUBSCRIBE", "quiet"}).ok());
  EXPECT_EQ(sub->ReadReply().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(sub->ReadReply().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(sub->ok());
  ASSERT_TRUE(server.Run({"PUBLISH", "quiet", "late"}).ok());
  absl::StatusOr<Reply> msg = sub->ReadReply();
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(std::string((*msg)->element[2]->str), "late");
}

TEST(RedisConnection, ShutdownFromAnotherThreadEndsABlockedRead) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> sub = server.Connect();
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(sub->Command({"SUBSCRIBE", "quiet"}).ok());
  std::thread closer([fd = sub->raw()->fd] {
    absl::SleepFor(absl::Milliseconds(100));
    ::shutdown(fd, SHUT_RDWR);
  });
  absl::StatusOr<Reply> r = sub->ReadReply();
  closer.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(sub->ok());
}

TEST(RedisConnection, MovedFromConnectionIsNotOk) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  Connection moved = *std::move(conn);
  EXPECT_TRUE(moved.ok());
  EXPECT_FALSE(conn->ok());  // NOLINT(bugprone-use-after-move): that is the point
  EXPECT_EQ(conn->Command({"PING"}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisConnection, EmptyCommandIsInvalidArgument) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<Connection> conn = server.Connect();
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->Command(std::span<const std::string_view>()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(conn->ok());
}

}  // namespace
}  // namespace physics::redis
