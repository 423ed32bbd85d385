#include "engine/loop/cluster_writer.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/redis/key_slot.h"
#include "engine/redis/key_space.h"

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
  if (options_.leader_lease > absl::ZeroDuration()) {
    lease_.emplace(absl::ToChronoNanoseconds(options_.leader_lease));
    fence_.emplace(config_, options_);
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

void ClusterWriter::AppendState(const SymbolState& s, uint32_t tag, redis::ClusterPipeline& pipeline) {
  const auto set = commands_.StateSet(s);
  if (!fence_) {
    pipeline.Append(s.state_slot, tag, set.view());
    return;
  }
  if (fence_->AddToGroup(*cluster_, s.state_slot, tag, {set.view()}, pipeline)) return;
  fence_->Begin(*cluster_, s.state_slot, set.view()[1]);
  fence_->Add(set.view());
  fence_->AppendTo(pipeline, s.state_slot, tag, /*repeatable=*/true);
}

void ClusterWriter::AppendSnapshot(const SymbolState& s, uint32_t tag, redis::ClusterPipeline& pipeline) {
  const SnapshotHSet hset(s);
  const auto expire = commands_.SnapshotExpire(s);
  if (!fence_) {
    pipeline.Append(s.snapshot_slot, tag, hset.view());
    pipeline.Append(s.snapshot_slot, tag, expire);
    return;
  }
  if (fence_->AddToGroup(*cluster_, s.snapshot_slot, tag, {hset.view(), expire}, pipeline)) return;
  fence_->Begin(*cluster_, s.snapshot_slot, hset.view()[1]);
  fence_->Add(hset.view());
  fence_->Add(expire);
  fence_->AppendTo(pipeline, s.snapshot_slot, tag, /*repeatable=*/true);
}

void ClusterWriter::Stream(const SymbolBook& book) {
  if (!cluster_) return;
  // Lease mode: only while the clock rule vouches for the lease and the
  // copies need no fencing again; Flush does the rest.
  if (lease_ && (!lease_->MaySend(Clock::now()) || refence_)) return;
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
      const uint16_t slot = partitions_.Slot(static_cast<int>(p));
      const uint32_t tag = kBatchTag + static_cast<uint32_t>(batches_.size());
      if (fence_) {  // one script: checked and published as one piece, never twice
        fence_->Begin(*cluster_, slot, channels_[p]);
        for (uint32_t j = begin; j < end; ++j) {
          fence_->Add({"SPUBLISH", channels_[p], unwritten[by_partition_[j]]->event_json});
        }
        fence_->AppendTo(messages, slot, tag, /*repeatable=*/false);
      } else {
        messages.BeginTransaction(slot, tag);
        for (uint32_t j = begin; j < end; ++j) {
          messages.AppendToTransaction({"SPUBLISH", channels_[p], unwritten[by_partition_[j]]->event_json});
        }
        messages.EndTransaction();
      }
      batches_.push_back(Batch{begin, end});
      begin = end;
    }
  }
  for (size_t i = 0; i < unwritten.size(); ++i) {
    if (!failed[i]) AppendSnapshot(*unwritten[i], static_cast<uint32_t>(i), messages);
  }
  if (fence_) fence_->CloseGroups(messages);
}

absl::Status ClusterWriter::Execute(redis::ClusterPipeline& pipeline, bool& heartbeat_failed) {
  const size_t commands = pipeline.size();
  absl::Status status = pipeline.Execute(*cluster_);
  ++counters_.pipelines;
  counters_.commands += static_cast<int64_t>(commands);
  for (const uint32_t tag : pipeline.failed_tags()) {
    if (tag == kHeartbeatTag) {
      heartbeat_failed = true;
    } else if (tag == kRenewalTag) {
      continue;  // NoteRefusals
    } else if (tag >= ClusterLease::kGroupTag && tag < kBatchTag) {
      for (const uint32_t i : fence_->GroupMembers(tag)) failed_[i] = 1;
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
  // The groups' tags name symbols of this loop tick only.
  absl::Cleanup clear_groups = [this] {
    if (fence_) fence_->ClearGroups();
  };
  const auto now = Clock::now();
  const bool beat = heartbeat_.has_value() && heartbeat_->Due(now);
  if (lease_ && !lease_->leading()) return FlushStandby(book, beat, now);
  const bool renew = lease_ && lease_->RenewalDue(now);
  const auto& unwritten = book.unwritten();
  if (unwritten.empty() && !beat && !renew) return absl::OkStatus();
  if (absl::Status s = EnsureOpen(); !s.ok()) {
    ++counters_.failed_writes;
    states_.Clear();
    appended_ = 0;
    return s;
  }
  if (lease_) {
    if (absl::Status s = PrepareFencedWrite(now); !s.ok()) {
      // What Stream sent is read; the fences decide whether it landed.
      states_.Execute(*cluster_).IgnoreError();
      appended_ = 0;
      if (!absl::IsAborted(s)) {
        ++counters_.failed_writes;
        return s;
      }
      LoseLease(s.message());
      book.MarkAllWritten();
      return absl::OkStatus();
    }
  }
  for (; appended_ < unwritten.size(); ++appended_) {
    AppendState(*unwritten[appended_], static_cast<uint32_t>(appended_), states_);
  }
  if (fence_) fence_->CloseGroups(states_);
  appended_ = 0;
  failed_.assign(unwritten.size(), 0);
  bool heartbeat_failed = false;
  absl::Status status = absl::OkStatus();
  if (!states_.empty()) status = Execute(states_, heartbeat_failed);
  absl::Status lease_status = lease_ ? NoteRefusals(states_) : absl::OkStatus();
  if (lease_status.ok()) {
    AppendMessages(book, failed_, messages_);
    if (beat) {
      messages_.Append(redis::KeySlot(heartbeat_->key()), kHeartbeatTag, heartbeat_->SetArgv());
    }
    if (renew) {
      fence_->AppendRenewal(messages_, kRenewalTag);
      lease_->Sent(now);
      renewal_in_flight_ = true;
    }
    if (!messages_.empty()) status.Update(Execute(messages_, heartbeat_failed));
    if (lease_) lease_status = NoteRefusals(messages_);
  }
  if (absl::IsAborted(lease_status)) {  // a standby now: the new leader writes
    LoseLease(lease_status.message());
    book.MarkAllWritten();
    return absl::OkStatus();
  }
  kept_.clear();
  for (size_t i = 0; i < failed_.size(); ++i) {
    if (failed_[i]) kept_.push_back(static_cast<uint32_t>(i));
  }
  NoteOutcome(status, unwritten.size() - kept_.size(), unwritten.size());
  if (first_write_pending_ && kept_.size() < unwritten.size()) {
    first_write_pending_ = false;
    log::Info(absl::StrCat("first write as leader ",
                           std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - took_lease_at_)
                               .count(),
                           " ms after taking the lease"));
  }
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

absl::Status ClusterWriter::FlushStandby(SymbolBook& book, bool beat, Clock::time_point now) {
  // The states are the leader's to write; a takeover continues from the
  // stored ones (TryLead), never from these.
  book.MarkAllWritten();
  appended_ = 0;
  if (!beat) return absl::OkStatus();
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  absl::StatusOr<redis::Reply> r = cluster_->Command(heartbeat_->key(), heartbeat_->SetArgv());
  if (!r.ok()) return r.status();
  heartbeat_->Written(now);
  return absl::OkStatus();
}

absl::Status ClusterWriter::PrepareFencedWrite(Clock::time_point now) {
  const bool moved = fence_->CopiesMoved(*cluster_);
  const bool refence = refence_ || moved;
  // Fencing again only under a lease just confirmed ours: a stalled old
  // leader finds it taken before it touches a copy.
  if (refence || !lease_->MaySend(now)) {
    lease_->Sent(Clock::now());
    if (absl::Status s = fence_->Renew(*cluster_); !s.ok()) return s;
    lease_->Confirmed();
  }
  if (!refence) return absl::OkStatus();
  // A group refused as non-local brings no MOVED: read the slot map now
  // (not rate-limited: fencing again is rare).
  cluster_->Refresh(absl::ZeroDuration()).IgnoreError();
  if (absl::Status s = fence_->Fence(*cluster_); !s.ok()) return s;
  refence_ = false;
  appended_ = 0;  // the open groups went with the old copies: every state again
  // The refusals that asked for it were logged (NoteOutcome, throttled).
  if (moved) {
    log::Info(absl::StrCat("leader lease ", fence_->key(), ": the masters changed, fenced every master again (",
                           cluster_->masters(), " masters)"));
  }
  return absl::OkStatus();
}

absl::Status ClusterWriter::NoteRefusals(const redis::ClusterPipeline& pipeline) {
  for (const redis::Pipeline::ReplyError& e : pipeline.error_replies()) {
    switch (ClusterLease::Classify(e.view())) {
      case ClusterLease::Refusal::kFenced:
        renewal_in_flight_ = false;
        return absl::AbortedError(absl::StrCat("a newer leader fenced this write: ",
                                               absl::string_view(e.view().data(), e.view().size())));
      case ClusterLease::Refusal::kReplace:
      case ClusterLease::Refusal::kReload:
        refence_ = true;
        break;
      case ClusterLease::Refusal::kNone:
        break;
    }
  }
  if (renewal_in_flight_) {
    renewal_in_flight_ = false;
    const auto failed = pipeline.failed_tags();
    if (std::find(failed.begin(), failed.end(), kRenewalTag) == failed.end()) lease_->Confirmed();
  }
  return absl::OkStatus();
}

void ClusterWriter::LoseLease(absl::string_view why) {
  if (lease_->Lost()) {
    log::Warn(absl::StrCat("lost the leader lease ", fence_->key(), " (", why,
                           "); standing by, writing nothing until it is ours again"));
  }
}

bool ClusterWriter::TryLead(SymbolBook* book) {
  if (leading()) return true;
  if (!EnsureOpen().ok()) return false;
  const auto sent = Clock::now();
  absl::StatusOr<bool> taken = fence_->Acquire(*cluster_);
  if (!taken.ok() || !*taken) return false;
  // Every copy raised before the stored seqs are read: whatever an old leader
  // still lands, it lands before that read.
  if (!fence_->Fence(*cluster_).ok()) return false;
  refence_ = false;
  if (book != nullptr) {
    redis::KeySpace keys(*cluster_);
    absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> seqs =
        StoredStateSeqs(keys, config_.Key("physics:state:*"));
    if (!seqs.ok()) return false;
    book->RaiseSeqs(*std::move(seqs));
  }
  lease_->Acquired(sent);
  took_lease_at_ = sent;
  first_write_pending_ = true;
  log::Info(absl::StrCat("leading: holding the leader lease ", fence_->key(), " (",
                         absl::FormatDuration(options_.leader_lease), "), fencing epoch ",
                         fence_->epoch(), " on ", cluster_->masters(), " masters"));
  return true;
}

bool ClusterWriter::ConfirmLease() {
  if (!lease_ || !lease_->leading()) return leading();
  if (lease_->MaySend(Clock::now())) return true;
  if (!cluster_) return false;
  lease_->Sent(Clock::now());
  absl::Status s = fence_->Renew(*cluster_);
  if (s.ok()) {
    lease_->Confirmed();
    return true;
  }
  if (absl::IsAborted(s)) LoseLease(s.message());
  return false;
}

void ClusterWriter::ReleaseLease() {
  if (!lease_ || !lease_->leading() || !cluster_) return;
  fence_->Release(*cluster_);
  lease_->Released();
}

void ClusterWriter::RemoveHeartbeat() {
  if (!heartbeat_.has_value() || !cluster_.has_value()) return;
  cluster_->Command(heartbeat_->key(), heartbeat_->RemoveArgv()).IgnoreError();
}

}  // namespace physics::loop
