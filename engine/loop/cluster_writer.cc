#include "engine/loop/cluster_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/key_slot.h"

namespace physics::loop {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

ClusterWriter::ClusterWriter(redis::Config config, WriterOptions options, int partitions)
    : config_(std::move(config)),
      options_(std::move(options)),
      commands_(options_.state_ttl_seconds, options_.snapshot_ttl_seconds),
      partitions_(partitions),
      backoff_(redis::ReconnectBackoff(config_)) {
  channels_.reserve(static_cast<size_t>(partitions));
  for (int p = 0; p < partitions; ++p) channels_.push_back(partitions_.Channel(config_, p));
  if (!options_.heartbeat_id.empty()) {
    heartbeat_.emplace(config_, "engine", options_.heartbeat_id, options_.heartbeat_value);
  }
}

absl::Status ClusterWriter::EnsureOpen() {
  if (cluster_) return absl::OkStatus();
  const auto now = Clock::now();
  if (now < next_attempt_) return absl::UnavailableError("waiting to reconnect");
  absl::StatusOr<redis::Cluster> cluster =
      redis::Cluster::Open(config_, options_.connect_timeout, options_.io_timeout);
  if (!cluster.ok()) {
    if (IsConfigurationError(cluster.status())) return cluster.status();
    next_attempt_ = now + absl::ToChronoNanoseconds(backoff_.Next());
    if (!reported_down_) {
      reported_down_ = true;
      log::Warn(absl::StrCat("Redis Cluster at ", config_.Describe(), " unavailable (",
                             cluster.status().message(),
                             "); computing on, keeping the latest state per symbol, retrying with backoff"));
    }
    return cluster.status();
  }
  cluster_.emplace(*std::move(cluster));
  return absl::OkStatus();
}

void ClusterWriter::AppendState(const SymbolState& s, uint32_t tag,
                                redis::ClusterPipeline& pipeline) const {
  pipeline.Append(s.state_slot, tag, commands_.StateSet(s).view());
}

void ClusterWriter::Stream(const SymbolBook& book) {
  if (!cluster_) return;
  const auto& unwritten = book.unwritten();
  for (; appended_ < unwritten.size(); ++appended_) {
    AppendState(*unwritten[appended_], static_cast<uint32_t>(appended_), states_);
  }
  states_.SendNow(*cluster_);
}

void ClusterWriter::SortByPartition(const SymbolBook& book, std::span<const uint8_t> failed) {
  const auto& unwritten = book.unwritten();
  const size_t partitions = channels_.size();
  // Counting sort, keeping the book's order within a partition.
  partition_start_.assign(partitions + 1, 0);
  for (size_t i = 0; i < unwritten.size(); ++i) {
    if (!failed[i]) ++partition_start_[static_cast<size_t>(partitions_.OfCrc16(unwritten[i]->symbol_crc16)) + 1];
  }
  for (size_t p = 0; p < partitions; ++p) partition_start_[p + 1] += partition_start_[p];
  by_partition_.resize(partition_start_[partitions]);
  for (size_t i = 0; i < unwritten.size(); ++i) {
    if (failed[i]) continue;
    const auto p = static_cast<size_t>(partitions_.OfCrc16(unwritten[i]->symbol_crc16));
    by_partition_[partition_start_[p]++] = static_cast<uint32_t>(i);
  }
  // Filling moved each start to the next partition's: shift them back.
  for (size_t p = partitions; p > 0; --p) partition_start_[p] = partition_start_[p - 1];
  partition_start_[0] = 0;
}

void ClusterWriter::AppendMessages(const SymbolBook& book, std::span<const uint8_t> failed,
                                   redis::ClusterPipeline& messages) {
  const auto& unwritten = book.unwritten();
  SortByPartition(book, failed);
  batches_.clear();
  for (size_t p = 0; p < channels_.size(); ++p) {
    for (uint32_t begin = partition_start_[p]; begin < partition_start_[p + 1];) {
      const auto end = static_cast<uint32_t>(
          std::min<size_t>(partition_start_[p + 1], begin + kPublishesPerTransaction));
      messages.BeginTransaction(partitions_.Slot(static_cast<int>(p)),
                                kBatchTag + static_cast<uint32_t>(batches_.size()));
      for (uint32_t j = begin; j < end; ++j) {
        messages.AppendToTransaction({"SPUBLISH", channels_[p], unwritten[by_partition_[j]]->event_json});
      }
      messages.EndTransaction();
      batches_.push_back(Batch{begin, end});
      begin = end;
    }
  }
  for (size_t i = 0; i < unwritten.size(); ++i) {
    if (failed[i]) continue;
    const SymbolState& s = *unwritten[i];
    const SnapshotHSet hset(s);
    messages.Append(s.snapshot_slot, static_cast<uint32_t>(i), hset.view());
    messages.Append(s.snapshot_slot, static_cast<uint32_t>(i), commands_.SnapshotExpire(s));
  }
}

absl::Status ClusterWriter::Execute(redis::ClusterPipeline& pipeline, bool& heartbeat_failed) {
  const size_t commands = pipeline.size();
  absl::Status status = pipeline.Execute(*cluster_);
  ++counters_.pipelines;
  counters_.commands += static_cast<int64_t>(commands);
  for (const uint32_t tag : pipeline.failed_tags()) {
    if (tag == kHeartbeatTag) {
      heartbeat_failed = true;
    } else if (tag >= kBatchTag) {
      const Batch& b = batches_[tag - kBatchTag];
      for (uint32_t j = b.begin; j < b.end; ++j) failed_[by_partition_[j]] = 1;
    } else {
      failed_[tag] = 1;
    }
  }
  return status;
}

absl::Status ClusterWriter::Flush(SymbolBook& book) {
  const auto now = Clock::now();
  const bool beat = heartbeat_.has_value() && heartbeat_->Due(now);
  const auto& unwritten = book.unwritten();
  if (unwritten.empty() && !beat) return absl::OkStatus();
  if (absl::Status s = EnsureOpen(); !s.ok()) {
    ++counters_.failed_writes;
    states_.Clear();
    appended_ = 0;
    return s;
  }
  for (; appended_ < unwritten.size(); ++appended_) {
    AppendState(*unwritten[appended_], static_cast<uint32_t>(appended_), states_);
  }
  appended_ = 0;
  failed_.assign(unwritten.size(), 0);
  bool heartbeat_failed = false;
  absl::Status status = absl::OkStatus();
  if (!states_.empty()) status = Execute(states_, heartbeat_failed);
  AppendMessages(book, failed_, messages_);
  if (beat) {
    messages_.Append(redis::KeySlot(heartbeat_->key()), kHeartbeatTag, heartbeat_->SetArgv());
  }
  if (!messages_.empty()) status.Update(Execute(messages_, heartbeat_failed));
  kept_.clear();
  for (size_t i = 0; i < failed_.size(); ++i) {
    if (failed_[i]) kept_.push_back(static_cast<uint32_t>(i));
  }
  NoteOutcome(status, unwritten.size() - kept_.size(), unwritten.size());
  book.MarkWrittenExcept(kept_);
  if (beat && !heartbeat_failed) heartbeat_->Written(now);
  if (kept_.empty() && !heartbeat_failed) return absl::OkStatus();
  ++counters_.failed_writes;
  return absl::UnavailableError(absl::StrCat(kept_.size(), " symbols not written: ", status.message()));
}

void ClusterWriter::NoteOutcome(const absl::Status& status, size_t written, size_t total) {
  const size_t unwritten = total - written;
  if (absl::IsInternal(status)) {  // error replies (e.g. a key of the wrong type)
    ++counters_.error_replies;
    if (const auto now = Clock::now(); now >= next_error_log_) {  // one line per 10 s at most
      next_error_log_ = now + std::chrono::seconds(10);
      log::Warn(absl::StrCat("Redis Cluster rejected part of a write (", counters_.error_replies,
                             " loop ticks so far): ", status.message()));
    }
    return;
  }
  if (unwritten > 0 && !reported_down_) {
    reported_down_ = true;
    log::Warn(absl::StrCat("Redis Cluster at ", config_.Describe(), ": ", unwritten, " of ", total,
                           " symbols not written (", status.message(),
                           "); computing on, keeping their latest state, retrying every loop tick"));
  } else if (unwritten == 0 && status.ok() && reported_down_) {
    reported_down_ = false;
    backoff_.Reset();
    log::Info(absl::StrCat("Redis Cluster at ", config_.Describe(),
                           " is back; wrote the latest state of ", written, " symbols"));
  }
}

void ClusterWriter::RemoveHeartbeat() {
  if (!heartbeat_.has_value() || !cluster_.has_value()) return;
  cluster_->Command(heartbeat_->key(), heartbeat_->RemoveArgv()).IgnoreError();
}

}  // namespace physics::loop
