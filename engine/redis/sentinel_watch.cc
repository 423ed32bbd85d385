#include "engine/redis/sentinel_watch.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include "engine/redis/backoff.h"
#include "engine/redis/connection.h"
#include "engine/redis/internal/string_view.h"
#include "engine/redis/sentinel.h"

namespace physics::redis {
namespace {

constexpr std::string_view kChannel = "+switch-master";


// The new master of a "+switch-master" message about `master_name`; its
// payload is "<name> <old-ip> <old-port> <new-ip> <new-port>".
std::optional<HostPort> NewMasterIn(const redisReply& reply, std::string_view master_name) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3) return std::nullopt;
  for (size_t i = 0; i < 3; ++i) {
    if (reply.element[i]->type != REDIS_REPLY_STRING) return std::nullopt;
  }
  if (ReplyText(reply.element[0]) != "message" || ReplyText(reply.element[1]) != kChannel) return std::nullopt;
  const std::vector<absl::string_view> words =
      absl::StrSplit(internal::ToAbsl(ReplyText(reply.element[2])), ' ');
  int port = 0;
  if (words.size() != 5 || internal::ToStd(words[0]) != master_name ||
      !absl::SimpleAtoi(words[4], &port)) {
    return std::nullopt;
  }
  return HostPort{std::string(words[3]), port};
}

}  // namespace

SentinelWatch::SentinelWatch(SentinelList& sentinels, std::string master_name,
                             std::string sentinel_password)
    : sentinels_(sentinels),
      master_name_(std::move(master_name)),
      sentinel_password_(std::move(sentinel_password)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "sentinel-watch");
}

SentinelWatch::~SentinelWatch() {
  stop_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(wake_fd_);
}

void SentinelWatch::Run() {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(2));
  while (!stopping()) {
    bool subscribed = false;
    for (const HostPort& sentinel : sentinels_.InOrder()) {
      if (stopping()) return;
      if (WatchOne(sentinel)) {
        subscribed = true;
        break;
      }
    }
    if (subscribed) backoff.Reset();
    if (!SleepFor(backoff.Next())) return;
  }
}

bool SentinelWatch::WatchOne(const HostPort& sentinel) {
  Config cfg;
  cfg.host = sentinel.host;
  cfg.port = sentinel.port;
  cfg.password = sentinel_password_;
  absl::StatusOr<Connection> conn = Connection::Open(cfg, kSentinelTimeout, kSentinelTimeout);
  if (!conn.ok()) return false;
  // The reply is the subscription's confirmation.
  if (!conn->Command({"SUBSCRIBE", kChannel}).ok()) return false;
  while (!stopping()) {
    // TCP keepalive (set by Open) ends the wait on a sentinel that vanished.
    absl::StatusOr<Reply> reply = conn->ReadReplyWithin(absl::InfiniteDuration(), wake_fd_);
    if (absl::IsDeadlineExceeded(reply.status())) continue;  // woken: stopping
    if (!reply.ok()) break;
    if (std::optional<HostPort> master = NewMasterIn(**reply, master_name_)) {
      sentinels_.NoteSwitch(*master);
    }
  }
  return true;
}

bool SentinelWatch::SleepFor(absl::Duration d) {
  pollfd fd{wake_fd_, POLLIN, 0};
  poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(d)));
  return !stopping();
}

}  // namespace physics::redis
