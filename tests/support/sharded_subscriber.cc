#include "tests/support/sharded_subscriber.h"

#include <sys/socket.h>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace physics::testing {

ShardedSubscriber::ShardedSubscriber(ClusterSet& cluster, const redis::Partitioning& parts) {
  std::map<size_t, std::vector<std::string>> by_node;
  for (int p = 0; p < parts.count(); ++p) {
    absl::StatusOr<size_t> node = cluster.MasterOf(parts.Slot(p));
    EXPECT_TRUE(node.ok()) << node.status();
    if (node.ok() && cluster.node(*node).running()) by_node[*node].push_back(parts.Channel(cluster.config(), p));
  }
  for (auto& [node, channels] : by_node) {
    auto& reader = readers_.emplace_back(std::make_unique<Reader>());
    reader->conn = *cluster.node(node).Connect();
    for (const std::string& channel : channels) {
      EXPECT_TRUE(reader->conn->Command({"SSUBSCRIBE", channel}).ok()) << channel;
    }
    reader->thread = std::thread([this, r = reader.get()] { Read(*r); });
  }
}

ShardedSubscriber::~ShardedSubscriber() {
  stop_ = true;
  for (auto& r : readers_) {
    ::shutdown(r->conn->raw()->fd, SHUT_RDWR);
    r->thread.join();
  }
}

std::map<std::string, std::vector<std::string>> ShardedSubscriber::messages() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_symbol_;
}

int64_t ShardedSubscriber::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

void ShardedSubscriber::Read(Reader& r) {
  simdjson::dom::parser parser;
  while (!stop_) {
    absl::StatusOr<redis::Reply> reply = r.conn->ReadReply();
    if (!reply.ok()) continue;  // read timeout: keep listening
    const redisReply* m = reply->get();
    if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 || redis::ReplyText(m->element[0]) != "smessage") {
      continue;
    }
    const std::string payload(redis::ReplyText(m->element[2]));
    simdjson::dom::element doc;
    std::string_view symbol;
    if (parser.parse(payload).get(doc) || doc["symbol"].get(symbol)) continue;
    std::lock_guard<std::mutex> lock(mu_);
    by_symbol_[std::string(symbol)].push_back(payload);
    ++count_;
  }
}

int64_t SeqOf(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t seq = 0;
  if (parser.parse(json.data(), json.size()).get(doc) || doc["seq"].get(seq)) return 0;
  return seq;
}

}  // namespace physics::testing
