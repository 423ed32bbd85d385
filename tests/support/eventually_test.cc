#include "tests/support/eventually.h"

#include <cstdint>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace physics::testing {
namespace {

using ::testing::HasSubstr;

TEST(Eventually, ReturnsOkAsSoonAsTheConditionHolds) {
  int calls = 0;
  const absl::Time start = absl::Now();
  EXPECT_TRUE(Eventually([&] { return ++calls == 3; }, absl::Seconds(5), absl::Milliseconds(1)).ok());
  EXPECT_EQ(calls, 3);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(Eventually, TimesOutWithTheProbesLastWord) {
  int calls = 0;
  const absl::Status s = Eventually(
      [&] { return absl::UnavailableError(absl::StrCat("attempt ", ++calls)); },
      absl::Milliseconds(50), absl::Milliseconds(5));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("attempt ", calls)));
  EXPECT_GE(calls, 2);
}

TEST(Eventually, ProbesAtLeastOnceEvenWithNoTime) {
  EXPECT_TRUE(Eventually([] { return true; }, absl::ZeroDuration()).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(Eventually([] { return false; }, absl::ZeroDuration())));
}

TEST(EventuallyValue, ReturnsTheFirstAcceptedValue) {
  int64_t n = 0;
  absl::StatusOr<int64_t> v = EventuallyValue([&] { return ++n; }, [](int64_t x) { return x >= 4; },
                                              absl::Seconds(5), absl::Milliseconds(1));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 4);
}

TEST(EventuallyValue, TimesOutNamingTheLastValueSeen) {
  absl::StatusOr<std::string> v = EventuallyValue([] { return std::string("stale"); },
                                                  [](const std::string& s) { return s == "fresh"; },
                                                  absl::Milliseconds(30), absl::Milliseconds(5));
  EXPECT_TRUE(absl::IsDeadlineExceeded(v.status())) << v.status();
  EXPECT_THAT(v.status().message(), HasSubstr("last seen: \"stale\""));
}

TEST(EventuallyValue, UnwrapsStatusOrProbesAndReportsTheirErrors) {
  int calls = 0;
  absl::StatusOr<int> ok = EventuallyValue(
      [&]() -> absl::StatusOr<int> {
        if (++calls < 3) return absl::UnavailableError("not up yet");
        return 7;
      },
      [](int x) { return x == 7; }, absl::Seconds(5), absl::Milliseconds(1));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 7);
  absl::StatusOr<int> down = EventuallyValue(
      []() -> absl::StatusOr<int> { return absl::UnavailableError("connection refused"); },
      [](int) { return true; }, absl::Milliseconds(20), absl::Milliseconds(5));
  EXPECT_THAT(down.status().message(), HasSubstr("connection refused"));
}

}  // namespace
}  // namespace physics::testing
