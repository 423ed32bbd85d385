#include "engine/redis/error_reply.h"

#include "gtest/gtest.h"

namespace physics::redis {
namespace {

TEST(ErrorReply, WrongPassIsUnauthenticated) {
  const absl::Status s =
      StatusFromErrorReply("WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(),
            "Redis error: WRONGPASS invalid username-password pair or user is disabled.");
}

TEST(ErrorReply, NoAuthIsUnauthenticated) {
  EXPECT_EQ(StatusFromErrorReply("NOAUTH Authentication required.").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(ErrorReply, NoPermIsPermissionDenied) {
  EXPECT_EQ(StatusFromErrorReply("NOPERM this user has no permissions to run the 'set' command")
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ErrorReply, KeyAndServerStateErrorsAreFailedPrecondition) {
  for (const char* text : {"WRONGTYPE Operation against a key holding the wrong kind of value",
                           "READONLY You can't write against a read only replica.",
                           "LOADING Redis is loading the dataset in memory",
                           "OOM command not allowed when used memory > 'maxmemory'."}) {
    EXPECT_EQ(StatusFromErrorReply(text).code(), absl::StatusCode::kFailedPrecondition) << text;
  }
}

TEST(ErrorReply, GenericErrIsInternal) {
  const absl::Status s = StatusFromErrorReply("ERR value is not an integer or out of range");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "Redis error: ERR value is not an integer or out of range");
}

TEST(ErrorReply, PrefixMustBeAWholeWord) {
  EXPECT_EQ(StatusFromErrorReply("ASKING is not an error prefix").code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace physics::redis
