#include "tools/publish/tick_source.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/schema/timestamp.h"

namespace physics::publish {

SimTickSource::SimTickSource(std::vector<std::string> symbols, uint64_t seed)
    : sim_(std::move(symbols), seed) {}

bool SimTickSource::Next(schema::Tick& tick) {
  if (next_ == burst_.size()) {
    burst_.clear();
    next_ = 0;
    sim_.GenerateBurst(schema::NowEpochMicros(), *this);
  }
  tick = burst_[next_++];
  return true;
}

absl::StatusOr<std::unique_ptr<CsvTickSource>> CsvTickSource::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<feed::CsvFile>> file = feed::CsvFile::Open(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<CsvTickSource>(new CsvTickSource(std::move(*file)));
}

bool CsvTickSource::Next(schema::Tick& tick) {
  while (file_->ReadLine()) {
    if (file_->line().empty()) continue;
    if (absl::Status s = feed::ParseCsvRow(file_->line(), file_->columns(), tick); !s.ok()) {
      log::Warn(absl::StrCat("skipped ", file_->path(), " line ", file_->line_number(), ": ", s.message()));
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace physics::publish
