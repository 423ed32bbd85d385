// Waiting in tests without fixed sleeps: poll a condition until it holds or a
// deadline passes, and say what was last seen when it never held, so a test
// waits only as long as the behaviour takes and fails with a reason.
// Thread-safe (stateless); the probes run on the calling thread.
//
//   ASSERT_TRUE(Eventually([&] { return server.Integer({"DBSIZE"}) == 6; }).ok());
//   absl::StatusOr<int64_t> seq =
//       EventuallyValue([&] { return StateSeq(server, "SPY"); }, [](int64_t s) { return s > 20; });
//   ASSERT_TRUE(seq.ok()) << seq.status();   // "... last seen: 0"
#ifndef PHYSICS_TESTS_SUPPORT_EVENTUALLY_H_
#define PHYSICS_TESTS_SUPPORT_EVENTUALLY_H_

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest-printers.h"

namespace physics::testing {

// Long enough for a loaded CI machine running sanitized binaries; a passing
// test never waits this long.
inline constexpr absl::Duration kEventuallyTimeout = absl::Seconds(10);
inline constexpr absl::Duration kEventuallyInterval = absl::Milliseconds(10);

// Calls `probe` until it returns OK, at least once and then every `interval`
// until `timeout` has passed. A non-OK status from the probe means "not yet"
// and says what was seen. Returns OK, or kDeadlineExceeded carrying the
// probe's last status.
absl::Status Eventually(absl::FunctionRef<absl::Status()> probe,
                        absl::Duration timeout = kEventuallyTimeout,
                        absl::Duration interval = kEventuallyInterval);

// The same for a plain condition; the error then only says it never held.
absl::Status Eventually(absl::FunctionRef<bool()> holds, absl::Duration timeout = kEventuallyTimeout,
                        absl::Duration interval = kEventuallyInterval);

namespace eventually_internal {

template <typename T>
struct Unwrap {
  using type = T;
  static absl::Status status(const T&) { return absl::OkStatus(); }
  static const T& value(const T& v) { return v; }
};
template <typename T>
struct Unwrap<absl::StatusOr<T>> {
  using type = T;
  static absl::Status status(const absl::StatusOr<T>& v) { return v.status(); }
  static const T& value(const absl::StatusOr<T>& v) { return *v; }
};

}  // namespace eventually_internal

// Calls `probe` (returning a T or an absl::StatusOr<T>) until `accept(value)`
// holds, as Eventually() does, and returns the accepted value. On timeout:
// kDeadlineExceeded with the last value seen (printed the way gtest prints it)
// or the probe's last error.
template <typename Probe, typename Accept>
auto EventuallyValue(Probe probe, Accept accept, absl::Duration timeout = kEventuallyTimeout,
                     absl::Duration interval = kEventuallyInterval)
    -> absl::StatusOr<typename eventually_internal::Unwrap<std::invoke_result_t<Probe&>>::type> {
  using Result = std::invoke_result_t<Probe&>;
  using U = eventually_internal::Unwrap<Result>;
  std::optional<typename U::type> accepted;
  absl::Status waited = Eventually(
      [&]() -> absl::Status {
        Result result = probe();
        if (absl::Status s = U::status(result); !s.ok()) return s;
        const typename U::type& value = U::value(result);
        if (!accept(value)) {
          return absl::FailedPreconditionError(
              absl::StrCat("last seen: ", ::testing::PrintToString(value)));
        }
        accepted.emplace(value);
        return absl::OkStatus();
      },
      timeout, interval);
  if (!waited.ok()) return waited;
  return *std::move(accepted);
}

}  // namespace physics::testing

#endif  // PHYSICS_TESTS_SUPPORT_EVENTUALLY_H_
