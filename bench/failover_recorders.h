// What failover_bench's scenarios share: the recorders, a thread per
// subscription that notes every state_update (symbol, seq, arrival time) or,
// on a sentinel, every +switch-master (each recorder's thread writes only its
// own list; read it after Stop()), and the loop over the runs.
// Not thread-safe beyond that: used from main.
#ifndef PHYSICS_BENCH_FAILOVER_RECORDERS_H_
#define PHYSICS_BENCH_FAILOVER_RECORDERS_H_

#include <atomic>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "engine/redis/config.h"
#include "engine/redis/connection.h"
#include "simdjson.h"

namespace physics::bench {

// One state_update seen by a subscriber or a client, at wall time `ns`.
struct Seen {
  int64_t ns = 0;
  std::string symbol;
  int64_t seq = 0;
};

// symbol and seq of an event (docs/SPEC.md §3) or of a bridge message frame around one.
inline bool ParseEvent(simdjson::ondemand::parser& parser, std::string_view json, bool framed, Seen& out) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return false;
  simdjson::ondemand::object event;
  if (framed ? doc["data"].get_object().get(event) : doc.get_object().get(event)) return false;
  std::string_view symbol;
  if (event["symbol"].get_string().get(symbol) != simdjson::SUCCESS) return false;
  out.symbol.assign(symbol);
  return event["seq"].get_int64().get(out.seq) == simdjson::SUCCESS;
}

// A thread recording what arrives somewhere until Stop().
class Recorder {
 public:
  virtual ~Recorder() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // Valid after Stop().
  const std::vector<Seen>& seen() const { return seen_; }
  bool ended() const { return ended_.load(); }

 protected:
  void Begin() { thread_ = std::thread([this] { Loop(); }); }
  virtual void Loop() = 0;
  void Note(Seen s) { seen_.push_back(std::move(s)); }

  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};  // the connection ended before Stop()

 private:
  std::vector<Seen> seen_;  // written by the thread only
  std::thread thread_;
};

// SUBSCRIBE `channel` on one server; records state_update events, or, for
// +switch-master, only the time of each message.
class ChannelRecorder : public Recorder {
 public:
  ChannelRecorder(redis::Config config, std::string channel)
      : config_(std::move(config)), channel_(std::move(channel)) {
    Begin();
  }
  ~ChannelRecorder() override { Stop(); }

 private:
  // Resubscribes whenever the connection ends: a sentinel promoting or
  // reconfiguring a node kills its pub/sub clients. A dead node is retried
  // until Stop().
  void Loop() override {
    while (!stop_.load()) {
      absl::StatusOr<redis::Connection> conn =
          redis::Connection::Open(config_, absl::Milliseconds(200), absl::Seconds(1));
      if (conn.ok() && conn->Command({"SUBSCRIBE", channel_}).ok()) Serve(*conn);
      if (!stop_.load()) absl::SleepFor(absl::Milliseconds(5));
    }
  }

  void Serve(redis::Connection& conn) {
    simdjson::ondemand::parser parser;
    while (!stop_.load()) {
      absl::StatusOr<redis::Reply> r = conn.ReadReplyWithin(absl::Milliseconds(50));
      if (absl::IsDeadlineExceeded(r.status())) continue;
      if (!r.ok()) return;
      const int64_t now = absl::GetCurrentTimeNanos();
      const redisReply* m = r->get();
      if (m->type != REDIS_REPLY_ARRAY || m->elements != 3) continue;
      Seen s;
      s.ns = now;
      if (channel_ == "state_update" &&
          !ParseEvent(parser, std::string_view(m->element[2]->str, m->element[2]->len), false, s)) {
        continue;
      }
      Note(std::move(s));
    }
  }

  const redis::Config config_;
  const std::string channel_;
};

// Runs `once` `runs` times, reporting progress on stderr; the first failure
// is reported and ends the loop (nullopt).
template <typename Figures>
std::optional<std::vector<Figures>> RunRepeatedly(int64_t runs,
                                                  const std::function<absl::StatusOr<Figures>()>& once) {
  std::vector<Figures> results;
  for (int64_t i = 0; i < runs; ++i) {
    absl::StatusOr<Figures> r = once();
    if (!r.ok()) {
      std::cerr << "failover_bench: run " << i + 1 << ": " << r.status() << "\n";
      return std::nullopt;
    }
    results.push_back(*std::move(r));
    std::cerr << "run " << i + 1 << " done\n";
  }
  return results;
}

}  // namespace physics::bench

#endif  // PHYSICS_BENCH_FAILOVER_RECORDERS_H_
