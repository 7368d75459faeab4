// The one "--" split every front end uses (common/command_line.h).
#include "common/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace capaudit::common {
namespace {

CommandSplit split(std::vector<const char*> argv) {
  return split_at_double_dash(static_cast<int>(argv.size()), argv.data());
}

using Words = std::vector<std::string>;

TEST(CommandLineSplit, WithoutSeparatorEverythingIsOptions) {
  const CommandSplit s = split({"capaudit-record", "-p", "1234", "--duration", "1s"});
  EXPECT_EQ(s.options_argc, 5);
  EXPECT_TRUE(s.command.empty());
}

TEST(CommandLineSplit, CommandAfterSeparatorIsUntouched) {
  const CommandSplit s = split({"capaudit", "-v", "--", "sh", "-c", "echo -- --x", "--", "-v"});
  EXPECT_EQ(s.options_argc, 2);
  EXPECT_EQ(s.command, (Words{"sh", "-c", "echo -- --x", "--", "-v"}));
}

TEST(CommandLineSplit, SeparatorFirst) {
  const CommandSplit s = split({"capaudit", "--", "ping", "-c1"});
  EXPECT_EQ(s.options_argc, 1);
  EXPECT_EQ(s.command, (Words{"ping", "-c1"}));
}

TEST(CommandLineSplit, EmptyCommand) {
  const CommandSplit s = split({"capaudit", "-v", "--"});
  EXPECT_EQ(s.options_argc, 2);
  EXPECT_TRUE(s.command.empty());
  EXPECT_EQ(split({"capaudit"}).options_argc, 1);
  EXPECT_EQ(split({}).options_argc, 0);
}

TEST(CommandLineSplit, ProgramNameIsNeverTheSeparator) {
  const CommandSplit s = split({"--", "-v", "--", "true"});
  EXPECT_EQ(s.options_argc, 2);
  EXPECT_EQ(s.command, (Words{"true"}));
}

TEST(CommandLineSplit, BareSeparatorAfterAnOptionStillSplits) {
  // "-o --" is not "-o" with the value "--": the option is left without its
  // value (the option parser refuses it) and the rest is the command.
  const CommandSplit s = split({"capaudit", "-o", "--", "true"});
  EXPECT_EQ(s.options_argc, 2);
  EXPECT_EQ(s.command, (Words{"true"}));
}

TEST(CommandLineSplit, SeparatorInsideAnOptionWordIsAValue) {
  const CommandSplit s = split({"capaudit", "--output=--", "--engine-arg=--runtime=runc", "--", "true"});
  EXPECT_EQ(s.options_argc, 3);
  EXPECT_EQ(s.command, (Words{"true"}));
}

}  // namespace
}  // namespace capaudit::common
