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

// The numbers capaudit's own code compares with (common/syscall_nr.h, which
// the BPF programs compile in) are libseccomp's, on both architectures.
TEST(Syscalls, KnownTableMatchesLibseccomp) {
  for (KnownSyscall s : kKnownSyscalls) {
    const std::string name(known_syscall_name(s));
    for (const char* arch : {"x86_64", "aarch64"}) {
      const auto nr = known_syscall_nr(s, arch);
      EXPECT_EQ(nr, syscall_number(name, arch)) << name << " " << arch;  // none (-1) only where libseccomp has none
      if (nr) EXPECT_EQ(syscall_name(*nr, arch), name) << arch;
    }
  }
  EXPECT_EQ(known_syscall_nr(KnownSyscall::capset, "x86_64"), 126);
  EXPECT_EQ(known_syscall_nr(KnownSyscall::capset, "aarch64"), 91);
  EXPECT_EQ(known_syscall_nr(KnownSyscall::capset, "arm64"), 91);  // the kernel's spelling
  EXPECT_EQ(known_syscall_nr(KnownSyscall::open, "aarch64"), std::nullopt);  // arm64 has openat only
  // An architecture without a column: libseccomp's number for it.
  EXPECT_EQ(known_syscall_nr(KnownSyscall::ptrace, "riscv64"), syscall_number("ptrace", "riscv64"));
}

TEST(Syscalls, TableMatchesDirectLookup) {
  SyscallTable table("x86_64");
  for (int nr : {0, 1, 49, 101, 125, 126, 321, 435, 900, 2000, -1}) {
    EXPECT_EQ(table.name(nr), syscall_name(nr, "x86_64")) << nr;
  }
}

}  // namespace
}  // namespace capaudit::common
