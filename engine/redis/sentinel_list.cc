#include "engine/redis/sentinel_list.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/redis/sentinel_watch.h"

namespace physics::redis {

std::string HostPort::ToString() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return absl::StrCat(ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", port);
}

SentinelList::SentinelList(std::vector<HostPort> addresses)
    : addresses_(std::move(addresses)), order_(addresses_) {}

SentinelList::~SentinelList() {
  std::unique_ptr<SentinelWatch> watch;
  {
    absl::MutexLock lock(&mu_);
    watch = std::move(watch_);
  }
  watch.reset();  // joins the thread, which may still call InOrder()
}

void SentinelList::StartWatching(const std::string& master_name,
                                 const std::string& sentinel_password) {
  absl::MutexLock lock(&mu_);
  if (watch_ == nullptr) watch_ = std::make_unique<SentinelWatch>(*this, master_name, sentinel_password);
}

SentinelList::Switch SentinelList::LastSwitch() const {
  absl::MutexLock lock(&mu_);
  return Switch{switches_.load(std::memory_order_acquire), announced_master_};
}

void SentinelList::NoteSwitch(const HostPort& new_master) {
  absl::MutexLock lock(&mu_);
  announced_master_ = new_master;
  switches_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<HostPort> SentinelList::InOrder() const {
  absl::MutexLock lock(&mu_);
  return order_;
}

void SentinelList::Prefer(const HostPort& answered) {
  absl::MutexLock lock(&mu_);
  const auto it = std::find(order_.begin(), order_.end(), answered);
  if (it != order_.end()) std::rotate(order_.begin(), it, it + 1);
}

}  // namespace physics::redis
