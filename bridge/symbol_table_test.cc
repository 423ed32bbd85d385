#include "bridge/symbol_table.h"

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

TEST(SymbolTable, InternsDenseIdsUpToCapacity) {
  SymbolTable t(2);
  EXPECT_EQ(t.Intern("SPY"), 0u);
  EXPECT_EQ(t.Intern("QQQ"), 1u);
  EXPECT_EQ(t.Intern("SPY"), 0u);
  EXPECT_EQ(t.Intern("IWM"), kNoSymbol);
  EXPECT_EQ(t.Intern(""), kNoSymbol);
  EXPECT_EQ(t.Find("QQQ"), 1u);
  EXPECT_EQ(t.Find("IWM"), kNoSymbol);
  EXPECT_EQ(t.name(1), "QQQ");
}

TEST(SymbolSet, AllMatchesEverythingOnlyMatchesItsIds) {
  SymbolSet s;
  EXPECT_TRUE(s.Contains(3));
  EXPECT_TRUE(s.Contains(kNoSymbol));
  s.SetOnly({1, 130});
  EXPECT_TRUE(s.Contains(1));
  EXPECT_TRUE(s.Contains(130));
  EXPECT_FALSE(s.Contains(2));
  EXPECT_FALSE(s.Contains(1000));
  EXPECT_FALSE(s.Contains(kNoSymbol));
}

}  // namespace
}  // namespace physics::bridge
