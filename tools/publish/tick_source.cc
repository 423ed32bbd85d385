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
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open CSV file '", path, "'"));
  std::unique_ptr<CsvTickSource> source(new CsvTickSource(file, path));
  if (!source->ReadLine()) {
    return absl::InvalidArgumentError(absl::StrCat("CSV file '", path, "' is empty: expected a header"));
  }
  absl::StatusOr<feed::CsvColumns> columns = feed::ParseCsvHeader(source->line_);
  if (!columns.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", columns.status().message()));
  source->columns_ = *columns;
  return source;
}

CsvTickSource::~CsvTickSource() {
  std::fclose(file_);
  std::free(line_buf_);
}

bool CsvTickSource::ReadLine() {
  const ssize_t n = ::getline(&line_buf_, &line_cap_, file_);
  if (n < 0) return false;
  ++line_number_;
  line_ = std::string_view(line_buf_, static_cast<size_t>(n));
  while (!line_.empty() && (line_.back() == '\n' || line_.back() == '\r')) line_.remove_suffix(1);
  return true;
}

bool CsvTickSource::Next(schema::Tick& tick) {
  while (ReadLine()) {
    if (line_.empty()) continue;
    if (absl::Status s = feed::ParseCsvRow(line_, columns_, tick); !s.ok()) {
      log::Warn(absl::StrCat("skipped ", path_, " line ", line_number_, ": ", s.message()));
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace physics::publish
