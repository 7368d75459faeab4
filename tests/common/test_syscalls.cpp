#include "common/syscalls.h"

#include <gtest/gtest.h>

namespace capaudit::common {
namespace {

TEST(Syscalls, NamesPerArchitecture) {
  EXPECT_EQ(syscall_name(0, "x86_64"), "read");
  EXPECT_EQ(syscall_name(49, "x86_64"), "bind");
  // The same number means something else on arm64: the arch must matter.
  EXPECT_EQ(syscall_name(200, "aarch64"), "bind");
  EXPECT_EQ(syscall_name(49, "aarch64"), "chdir");
}

TEST(Syscalls, UnknownNumbersNeverFail) {
  EXPECT_EQ(syscall_name(5000, "x86_64"), "syscall_5000");
  EXPECT_EQ(syscall_name(-1, "x86_64"), "no_syscall");
  // Unknown architecture falls back to the native table rather than failing.
  EXPECT_FALSE(syscall_name(1, "no-such-arch").empty());
}

TEST(Syscalls, NameToNumber) {
  EXPECT_EQ(syscall_number("bind", "x86_64"), 49);
  EXPECT_EQ(syscall_number("bind", "aarch64"), 200);
  EXPECT_FALSE(syscall_number("no_such_syscall", "x86_64").has_value());
}

TEST(Syscalls, TableMatchesDirectLookup) {
  SyscallTable table("x86_64");
  for (int nr : {0, 1, 49, 101, 125, 126, 321, 435, 900, 2000, -1}) {
    EXPECT_EQ(table.name(nr), syscall_name(nr, "x86_64")) << nr;
  }
}

}  // namespace
}  // namespace capaudit::common
