#include "tests/support/eventually.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace physics::testing {

absl::Status Eventually(absl::FunctionRef<absl::Status()> probe, absl::Duration timeout,
                        absl::Duration interval) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::Status seen = probe();
    if (seen.ok()) return seen;
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("not within ", absl::FormatDuration(timeout), "; ", seen.message()));
    }
    absl::SleepFor(std::min(interval, deadline - now));
  }
}

absl::Status Eventually(absl::FunctionRef<bool()> holds, absl::Duration timeout,
                        absl::Duration interval) {
  return Eventually(
      [&] { return holds() ? absl::OkStatus() : absl::FailedPreconditionError("the condition never held"); },
      timeout, interval);
}

}  // namespace physics::testing
