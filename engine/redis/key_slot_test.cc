#include "engine/redis/key_slot.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace physics::redis {
namespace {

TEST(Crc16, MatchesTheXmodemCheckValue) {
  // The standard check input of CRC-16/XMODEM, and Redis's own example.
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
  EXPECT_EQ(Crc16(""), 0);
}

TEST(KeySlot, MatchesSlotsRedisAnswers) {
  // Values CLUSTER KEYSLOT gives (the full comparison over 10 000 keys runs
  // against a real cluster node in tests/cluster_keyslot_test.cc).
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3);
}

TEST(KeySlot, HashesOnlyTheFirstNonEmptyTag) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("{user1000}.following"));
  EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
  EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(HashTag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(HashTag("foo{bar"), "foo{bar");        // unclosed: whole key
  EXPECT_EQ(HashTag("}{x}"), "x");
}

}  // namespace
TEST(SlotTag, IsTheSmallestNumberHashingToTheSlot) {
  for (const int slot : {0, 1, 3300, 8157, 16383}) {
    const uint32_t tag = SlotTag(static_cast<uint16_t>(slot));
    EXPECT_EQ(KeySlot(absl::StrCat("lease:{", tag, "}")), slot);
    for (uint32_t n = 0; n < tag; ++n) EXPECT_NE(KeySlot(absl::StrCat(n)), slot) << n;
  }
}

}  // namespace physics::redis
