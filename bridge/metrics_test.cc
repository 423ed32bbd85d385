#include "bridge/metrics.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

TEST(Metrics, HistogramBucketsAreCumulativeInSeconds) {
  LatencyHistogram h;
  h.Observe(50);       // <= 100 us
  h.Observe(3000);     // <= 5 ms
  h.Observe(9999999);  // +Inf
  std::string out;
  h.Render("lat_seconds", "Latency.", out);
  EXPECT_NE(out.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_count 3\n"), std::string::npos) << out;
}

TEST(Metrics, ObservingARunCountsEachOfItsMessages) {
  LatencyHistogram h;
  h.Observe(3000, 4);  // four frames written together, read from Redis together
  h.Observe(50);
  std::string out;
  h.Render("lat_seconds", "Latency.", out);
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.005\"} 5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_count 5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_sum 0.01205\n"), std::string::npos) << out;
}

TEST(Metrics, WriteLatencyIsTheSumOfEveryIoThreadsHistogram) {
  BridgeMetrics m;
  m.write_latency[0].Observe(50);
  m.write_latency[1].Observe(50);
  m.write_latency[1].Observe(3000);
  const std::string out = m.Render();
  EXPECT_NE(out.find("bridge_socket_write_seconds_bucket{le=\"0.0001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("bridge_socket_write_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("bridge_socket_write_seconds_count 3\n"), std::string::npos) << out;
}

TEST(Metrics, RenderHasEveryFamilyWithHelpAndType) {
  BridgeMetrics m;
  m.messages_in = 7;
  m.CountClientError(ClientError::kBinary);
  const std::string out = m.Render();
  EXPECT_NE(out.find("\nbridge_messages_in_total 7\n"), std::string::npos);
  EXPECT_NE(out.find("bridge_client_errors_total{reason=\"binary\"} 1\n"), std::string::npos);
  for (const char* family : {"bridge_clients", "bridge_messages_out_total", "bridge_messages_conflated_total",
                             "bridge_messages_dropped_total", "bridge_slow_client_closes_total",
                             "bridge_redis_to_bridge_seconds", "bridge_socket_write_seconds"}) {
    EXPECT_NE(out.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
}

}  // namespace
}  // namespace physics::bridge
