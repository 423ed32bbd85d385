#include "engine/redis/internal/cluster_redirect.h"

#include "gtest/gtest.h"

namespace physics::redis::internal {
namespace {

TEST(ClusterRedirect, ParsesMovedAndAskWithTheirNode) {
  Redirect r = ParseRedirect("MOVED 3999 127.0.0.1:6381");
  EXPECT_EQ(r.kind, Redirect::Kind::kMoved);
  EXPECT_EQ(r.slot, 3999);
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 6381);
  r = ParseRedirect("ASK 16383 redis-3.internal:7002");
  EXPECT_EQ(r.kind, Redirect::Kind::kAsk);
  EXPECT_EQ(r.slot, 16383);
  EXPECT_EQ(r.host, "redis-3.internal");
  EXPECT_EQ(r.port, 7002);
}

TEST(ClusterRedirect, AcceptsIpv6AndAnEmptyHost) {
  Redirect r = ParseRedirect("MOVED 1 ::1:7000");
  EXPECT_EQ(r.kind, Redirect::Kind::kMoved);
  EXPECT_EQ(r.host, "::1");
  EXPECT_EQ(r.port, 7000);
  EXPECT_EQ(ParseRedirect("MOVED 1 [fe80::1]:7000").host, "fe80::1");
  r = ParseRedirect("ASK 0 :7001");  // "the node you asked"
  EXPECT_EQ(r.kind, Redirect::Kind::kAsk);
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.port, 7001);
}

TEST(ClusterRedirect, TellsTryAgainAndClusterDown) {
  EXPECT_EQ(ParseRedirect("TRYAGAIN Multiple keys request during rehashing of slot").kind,
            Redirect::Kind::kTryAgain);
  EXPECT_EQ(ParseRedirect("CLUSTERDOWN The cluster is down").kind, Redirect::Kind::kClusterDown);
}

TEST(ClusterRedirect, AnythingElseIsNone) {
  for (const char* text : {"", "ERR unknown command", "MOVED", "MOVED 3999", "MOVED x 1.2.3.4:5",
                           "MOVED 16384 h:1", "MOVED 1 h", "MOVED 1 h:0", "MOVED 1 h:70000",
                           "ASK 1 h:12x", "MOVEDX 1 h:1", "WRONGTYPE Operation"}) {
    EXPECT_EQ(ParseRedirect(text).kind, Redirect::Kind::kNone) << text;
  }
}

}  // namespace
}  // namespace physics::redis::internal
