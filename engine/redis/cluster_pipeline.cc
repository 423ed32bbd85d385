// ClusterPipeline (cluster.h): units routed per master, sent to every master
// before any reply is read, and resent after redirections.
#include <chrono>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/cluster.h"
#include "engine/redis/error_reply.h"
#include "engine/redis/internal/cluster_redirect.h"
#include "engine/redis/internal/string_view.h"
#include "engine/redis/resp.h"

namespace physics::redis {
namespace {

using internal::kTryAgainPause;
using internal::Redirect;
using internal::ToAbsl;

// Rounds of sending per Execute: the first, one after ASK or MOVED, and one
// more for a redirection met on the way (ASK, then MOVED once the migration
// of the slot has ended).
constexpr int kMaxRounds = 3;

}  // namespace

void ClusterPipeline::Append(uint16_t slot, uint32_t tag,
                             std::initializer_list<std::string_view> argv) {
  Append(slot, tag, std::span<const std::string_view>(argv.begin(), argv.size()));
}

void ClusterPipeline::Append(uint16_t slot, uint32_t tag, std::span<const std::string_view> argv) {
  const size_t begin = units_buffer_.size();
  AppendResp(units_buffer_, argv);
  units_.push_back({slot, tag, begin, units_buffer_.size(), 1, false});
  ++commands_;
}

void ClusterPipeline::AppendOnce(uint16_t slot, uint32_t tag, std::span<const std::string_view> argv) {
  Append(slot, tag, argv);
  units_.back().once = true;
}

void ClusterPipeline::BeginTransaction(uint16_t slot, uint32_t tag) {
  const size_t begin = units_buffer_.size();
  AppendResp(units_buffer_, {"MULTI"});
  units_.push_back({slot, tag, begin, units_buffer_.size(), 1, true});
  open_transaction_ = units_.size() - 1;
  ++commands_;
}

void ClusterPipeline::AppendToTransaction(std::initializer_list<std::string_view> argv) {
  AppendToTransaction(std::span<const std::string_view>(argv.begin(), argv.size()));
}

void ClusterPipeline::AppendToTransaction(std::span<const std::string_view> argv) {
  AppendResp(units_buffer_, argv);
  Unit& unit = units_[*open_transaction_];
  unit.end = units_buffer_.size();
  ++unit.commands;
  ++commands_;
}

void ClusterPipeline::EndTransaction() {
  AppendToTransaction({"EXEC"});
  open_transaction_.reset();
}

size_t ClusterPipeline::size() const { return commands_; }

void ClusterPipeline::Clear() {
  units_buffer_.clear();
  units_.clear();
  open_transaction_.reset();
  commands_ = 0;
  assigned_ = 0;
  for (Destination& d : destinations_) {
    d.pipeline.Clear();
    d.sent.clear();
    d.used = false;
    d.conn = nullptr;
  }
}

int ClusterPipeline::RedirectNode(std::string_view host, int port, const HostPort& replied) {
  const std::string_view h = host.empty() ? std::string_view(replied.host) : host;
  for (size_t i = 0; i < redirect_nodes_.size(); ++i) {
    if (redirect_nodes_[i].port == port && redirect_nodes_[i].host == h) return static_cast<int>(i);
  }
  redirect_nodes_.push_back(HostPort{std::string(h), port});
  return static_cast<int>(redirect_nodes_.size() - 1);
}

ClusterPipeline::Destination* ClusterPipeline::DestinationFor(Cluster& cluster, const Pending& p) {
  const ClusterTopology& topology = cluster.topology();
  const size_t masters = topology.shards.size();
  size_t index = 0;
  if (p.node < 0) {
    const int shard = topology.slot_owner[units_[p.unit].slot];
    if (shard == ClusterTopology::kNoOwner) return nullptr;
    index = static_cast<size_t>(shard);
  } else {
    const int shard = topology.ShardOf(redirect_nodes_[p.node]);
    index = shard != ClusterTopology::kNoOwner ? static_cast<size_t>(shard)
                                               : masters + static_cast<size_t>(p.node);
  }
  if (destinations_.size() <= index) destinations_.resize(index + 1);
  Destination& d = destinations_[index];
  if (d.used) return &d;
  d.used = true;
  d.node = index < masters ? topology.shards[index].master : redirect_nodes_[p.node];
  for (const HostPort& dead : unreachable_) {
    if (dead == d.node) {
      d.conn = nullptr;
      d.connect_error = absl::UnavailableError(
          absl::StrCat("Redis ", d.node.ToString(), ": unreachable in this batch"));
      return &d;
    }
  }
  absl::StatusOr<Connection*> conn =
      index < masters ? cluster.Master(index) : cluster.NodeConnection(d.node);
  if (conn.ok()) {
    d.conn = *conn;
  } else {
    d.conn = nullptr;
    d.connect_error = conn.status();
    unreachable_.push_back(d.node);
  }
  return &d;
}

void ClusterPipeline::Assign(Cluster& cluster) {
  for (const Pending& p : pending_) {
    const Unit& unit = units_[p.unit];
    Destination* d = DestinationFor(cluster, p);
    if (d == nullptr) {
      Fail(p.unit, absl::StrCat("slot ", unit.slot, " is served by no master"), false);
      // The map was read between a master's failure and its replica's
      // promotion: read it again (rate-limited) or the slot stays orphaned.
      events_.refresh = true;
      continue;
    }
    d->sent.push_back({p.unit, d->pipeline.size(), unit.commands + (p.asking ? 1 : 0)});
    if (p.asking) d->pipeline.Append({"ASKING"});
    d->pipeline.AppendEncoded(
        std::string_view(units_buffer_).substr(unit.begin, unit.end - unit.begin), unit.commands);
  }
  pending_.clear();
}

void ClusterPipeline::StartBatchIfNew() {
  if (assigned_ != 0) return;  // SendNow() started it
  failed_tags_.clear();
  error_replies_.clear();
  events_ = Events{};
  unreachable_.clear();
  redirect_nodes_.clear();
  try_again_ = false;
}

void ClusterPipeline::SendNow(Cluster& cluster) {
  StartBatchIfNew();
  // An open transaction is not complete yet: it waits for Execute.
  const size_t ready = open_transaction_.has_value() ? *open_transaction_ : units_.size();
  for (; assigned_ < ready; ++assigned_) pending_.push_back({assigned_});
  Assign(cluster);
  for (Destination& d : destinations_) {
    if (d.used && d.conn != nullptr) d.pipeline.SendNow(*d.conn).IgnoreError();  // Execute sees it
  }
}

void ClusterPipeline::Fail(size_t unit, std::string_view why, bool internal) {
  failed_tags_.push_back(units_[unit].tag);
  ++events_.failed;
  events_.internal |= internal;
  if (events_.first_failure.empty()) events_.first_failure = std::string(why);
}

void ClusterPipeline::Collect(Cluster& cluster, Destination& d) {
  size_t read = 0;
  absl::Status io = d.connect_error;
  if (d.conn != nullptr) {
    d.pipeline.RecordErrors(&d.errors);
    io = d.pipeline.Execute(*d.conn);
    read = d.pipeline.replies_read();
  } else {
    d.pipeline.Clear();
    d.errors.clear();
  }
  const bool lost = d.conn == nullptr || !d.conn->ok();
  if (lost) {
    events_.refresh = true;
    if (events_.lost_node.empty()) {
      events_.lost_node = absl::StrCat(d.node.ToString(), " (", io.message(), ")");
    }
  }
  size_t e = 0;  // d.errors is in reply order, as are the units
  for (const Destination::Sent& s : d.sent) {
    const Unit& unit = units_[s.unit];
    const size_t end = s.first_reply + s.replies;
    const Pipeline::ReplyError* first = nullptr;
    Redirect redirect;
    for (; e < d.errors.size() && d.errors[e].reply < end; ++e) {
      if (first == nullptr) first = &d.errors[e];
      if (redirect.kind == Redirect::Kind::kNone) redirect = internal::ParseRedirect(d.errors[e].view());
    }
    if (end > read) {
      // No complete answer. No connection: the node is unreachable now, so
      // the unit fails at once. The connection broke: a plain write (SET,
      // HSET, EXPIRE: idempotent) is sent again; a transaction that may have
      // run (its EXEC reply lost) fails, as resending could publish twice.
      if (d.conn == nullptr) {
        Fail(s.unit, internal::ToStd(io.message()), false);
      } else if (unit.once) {
        Fail(s.unit, absl::StrCat("a transaction's reply was lost: ", io.message()), false);
      } else {
        ++events_.resent;
        next_.push_back({s.unit});
      }
      continue;
    }
    if (first == nullptr) continue;  // landed
    switch (redirect.kind) {
      case Redirect::Kind::kMoved:
      {
        ++events_.moved;
        events_.refresh = true;
        const int node = RedirectNode(redirect.host, redirect.port, d.node);
        cluster.NoteMoved(redirect.slot, redirect_nodes_[node]);
        next_.push_back({s.unit, node, false});
      }
        break;
      case Redirect::Kind::kAsk:
        ++events_.asked;
        next_.push_back({s.unit, RedirectNode(redirect.host, redirect.port, d.node), true});
        break;
      case Redirect::Kind::kTryAgain:
        events_.last_try_again.assign(first->view());
        ++events_.resent;
        try_again_ = true;
        next_.push_back({s.unit});
        break;
      case Redirect::Kind::kClusterDown:
        Fail(s.unit, absl::StrCat(d.node.ToString(), ": ", ToAbsl(first->view())), false);
        break;
      case Redirect::Kind::kNone:
        if (IsDemotedMasterError(first->view())) {  // refused, not run: resend
          ++events_.resent;
          events_.refresh = true;
          next_.push_back({s.unit});
        } else {
          Fail(s.unit, absl::StrCat(d.node.ToString(), ": ", ToAbsl(first->view())), true);
          error_replies_.push_back(*first);
        }
        break;
    }
  }
  d.sent.clear();
  d.used = false;
  d.conn = nullptr;
}

void ClusterPipeline::RunRound(Cluster& cluster) {
  // Every destination's bytes go out before any reply is awaited, so the
  // masters work in parallel; Execute then sends the rest and reads.
  for (Destination& d : destinations_) {
    if (d.used && d.conn != nullptr) d.pipeline.SendNow(*d.conn).IgnoreError();  // Collect sees it
  }
  for (Destination& d : destinations_) {
    if (d.used) Collect(cluster, d);
  }
}

void ClusterPipeline::LogEvents(size_t units) {
  if (events_.moved + events_.asked == 0 && events_.lost_node.empty()) return;
  int64_t held_back = 0;
  if (!log_throttle_.Admit(std::chrono::steady_clock::now(), held_back)) return;
  std::string line = absl::StrCat("Redis Cluster: of ", units, " units, ");
  if (events_.moved + events_.asked > 0) {
    absl::StrAppend(&line, events_.moved, " moved (MOVED) and ", events_.asked,
                    " sent to a migrating slot's new node (ASK)",
                    events_.refreshed ? ", slot map refreshed" : "", "; ");
  }
  if (!events_.lost_node.empty()) {
    absl::StrAppend(&line, "lost master ", events_.lost_node, "; ");
  }
  absl::StrAppend(&line, events_.resent, " resent, ", events_.failed, " did not land");
  if (held_back > 0) absl::StrAppend(&line, " (", held_back, " such lines held back)");
  log::Warn(line);
}

absl::Status ClusterPipeline::Execute(Cluster& cluster) {
  absl::Cleanup clear = [this] { Clear(); };
  StartBatchIfNew();
  if (units_.empty()) return absl::OkStatus();

  for (; assigned_ < units_.size(); ++assigned_) pending_.push_back({assigned_});
  Assign(cluster);
  for (int round = 1;; ++round) {
    next_.clear();
    RunRound(cluster);
    if (next_.empty()) break;
    if (round == kMaxRounds) {
      const std::string why = absl::StrCat(
          "redirections did not settle in ", kMaxRounds, " rounds",
          events_.last_try_again.empty() ? "" : " (last TRYAGAIN: ",
          ToAbsl(events_.last_try_again), events_.last_try_again.empty() ? "" : ")");
      for (const Pending& p : next_) Fail(p.unit, why, false);
      break;
    }
    if (events_.refresh && !events_.refreshed) {
      // One refresh per Execute (and Refresh's own rate limit across them): a
      // storm of MOVED costs one CLUSTER SHARDS. The units go to the node a
      // MOVED named either way.
      const absl::Time before = cluster.last_refresh_;
      cluster.Refresh().IgnoreError();  // a master still down shows up as a lost unit
      events_.refreshed = cluster.last_refresh_ != before;
    }
    if (try_again_) absl::SleepFor(kTryAgainPause);
    try_again_ = false;
    std::swap(pending_, next_);
    Assign(cluster);
  }
  if (events_.refresh && !events_.refreshed) {
    // Units failed on a lost master: the next batch should find its successor.
    cluster.Refresh().IgnoreError();
  }
  LogEvents(units_.size());
  if (failed_tags_.empty()) return absl::OkStatus();
  return absl::Status(
      events_.internal ? absl::StatusCode::kInternal : absl::StatusCode::kUnavailable,
      absl::StrCat("Redis Cluster ", cluster.config().Describe(), ": ", failed_tags_.size(), " of ",
                   units_.size(), " units did not land; first: ", events_.first_failure));
}

}  // namespace physics::redis
