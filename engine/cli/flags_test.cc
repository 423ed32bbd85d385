#include "engine/cli/flags.h"

#include <sstream>

#include "gtest/gtest.h"

namespace physics::cli {
namespace {

struct Parsed {
  std::optional<int> exit_code;
  std::string out, err;
};

class FlagsTest : public ::testing::Test {
 protected:
  FlagsTest() : flags_("prog", "Does things.") {
    flags_.AddDouble("hz", &hz_, 0.001, 100000, "loop ticks per second");
    flags_.AddInt("window", &window_, 2, 100000, "observations per symbol");
    flags_.AddString("feed", &feed_, "where ticks come from");
    flags_.AddBool("verbose", &verbose_, "log more");
  }
  Parsed Run(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    std::ostringstream out, err;
    Parsed p;
    p.exit_code = flags_.Parse(static_cast<int>(args.size()), args.data(), out, err);
    p.out = out.str();
    p.err = err.str();
    return p;
  }
  FlagSet flags_;
  double hz_ = 1;
  int64_t window_ = 1000;
  std::string feed_ = "sim";
  bool verbose_ = false;
};

TEST_F(FlagsTest, AcceptsBothValueForms) {
  const Parsed p = Run({"--hz", "1000", "--window=50", "--feed=csv:x.csv", "--verbose"});
  EXPECT_FALSE(p.exit_code.has_value()) << p.err;
  EXPECT_EQ(hz_, 1000);
  EXPECT_EQ(window_, 50);
  EXPECT_EQ(feed_, "csv:x.csv");
  EXPECT_TRUE(verbose_);
  EXPECT_TRUE(flags_.WasSet("hz"));
  EXPECT_FALSE(Run({}).exit_code.has_value());
}

TEST_F(FlagsTest, HelpListsEveryFlagWithDefault) {
  const Parsed p = Run({"--help"});
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(p.out.find("--hz VALUE"), std::string::npos);
  EXPECT_NE(p.out.find("(default: 1000)"), std::string::npos);
  EXPECT_NE(p.out.find("(default: sim)"), std::string::npos);
  EXPECT_NE(p.out.find("--verbose"), std::string::npos);
}

TEST_F(FlagsTest, BadValueIsOneLineNamingItAndExitsTwo) {
  const Parsed p = Run({"--hz", "fast"});
  EXPECT_EQ(p.exit_code, kUsageExitCode);
  EXPECT_EQ(p.err, "prog: invalid value 'fast' for --hz: expected a number from 0.001 to 100000\n");
}

TEST_F(FlagsTest, RejectsOutOfRangeUnknownAndMissingValues) {
  EXPECT_EQ(Run({"--window", "1"}).exit_code, kUsageExitCode);
  EXPECT_EQ(Run({"--window", "10x"}).exit_code, kUsageExitCode);
  EXPECT_EQ(Run({"--hz", "nan"}).exit_code, kUsageExitCode);
  EXPECT_NE(Run({"--nope"}).err.find("unknown flag --nope"), std::string::npos);
  EXPECT_NE(Run({"--feed"}).err.find("--feed needs a value"), std::string::npos);
  EXPECT_EQ(Run({"positional"}).exit_code, kUsageExitCode);
}

TEST(Flags, CheckedFlagUsesValidatorMessage) {
  FlagSet flags("prog", "x");
  std::string mode = "a";
  flags.AddChecked("mode", &mode, "mode", [](std::string_view v) {
    return v == "a" || v == "b" ? absl::OkStatus() : absl::InvalidArgumentError("expected a or b");
  });
  const char* argv[] = {"prog", "--mode", "c"};
  std::ostringstream out, err;
  EXPECT_EQ(flags.Parse(3, argv, out, err), kUsageExitCode);
  EXPECT_EQ(err.str(), "prog: invalid value 'c' for --mode: expected a or b\n");
  EXPECT_EQ(mode, "a");
}

}  // namespace
}  // namespace physics::cli
