// Which denials may start the host-wide outcome tracking (record/drain/advisory.h).
// Synthetic stacks over a made-up kallsyms; the real recording of a daemon
// dropping root is tests/record/e2e/test_outcomes.cpp.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <sstream>

#include "record/drain/advisory.h"

namespace capaudit::record {
namespace {

KernelSymbols symbols() {
  std::istringstream in(
      "ffffffff81000000 T cap_capable\n"
      "ffffffff81001000 T __vm_enough_memory\n"
      "ffffffff81002000 T do_mmap\n"
      "ffffffff81003000 T __sys_bind\n"
      "ffffffff81004000 T inode_init_owner\n");
  return KernelSymbols::parse(in);
}

DecodedCheck denial(int cap, int nr, std::vector<uint64_t>* stack, uint32_t tid = 7) {
  DecodedCheck d;
  d.check.tid = tid;
  d.check.cap = cap;
  d.check.syscall_nr = nr;
  d.check.granted = false;
  if (stack) d.stack = *stack;
  else d.unsampled = true;
  return d;
}

TEST(Advisory, TheCatalogueComesFromTheAnalyzersNoisePaths) {
  bool overcommit = false;
  for (const auto& n : noise_functions()) overcommit |= n.function == "__vm_enough_memory" && n.cap == CAP_SYS_ADMIN;
  EXPECT_TRUE(overcommit);
}

TEST(Advisory, OvercommitPathIsAdvisoryAndABindIsNot) {
  auto syms = symbols();
  AdvisoryDenials a(syms);
  std::vector<uint64_t> mmap{0xffffffff81000010, 0xffffffff81001020, 0xffffffff81002030};
  std::vector<uint64_t> bind{0xffffffff81000010, 0xffffffff81003040};
  EXPECT_TRUE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, &mmap), false));
  EXPECT_FALSE(a.is_advisory(denial(CAP_NET_BIND_SERVICE, SYS_bind, &bind), false));
  // The catalogue's capability must match: the same path for another cap matters.
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_RAWIO, SYS_mmap, &mmap), false));
  // inode_init_owner covers CAP_FSETID only
  std::vector<uint64_t> owner{0xffffffff81004000};
  EXPECT_TRUE(a.is_advisory(denial(CAP_FSETID, SYS_mmap, &owner), false));
}

TEST(Advisory, AnUnsampledCheckCountsAsItsThreadsSampledOnesOfTheSameKey) {
  auto syms = symbols();
  AdvisoryDenials a(syms);
  std::vector<uint64_t> mmap{0xffffffff81001020};
  std::vector<uint64_t> other{0xffffffff81002030};
  // never sampled: taken to matter
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, nullptr), false));
  EXPECT_TRUE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, &mmap), false));
  EXPECT_TRUE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, nullptr), false));
  // another thread's samples say nothing about this one
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, nullptr, 8), false));
  // one sampled check of the key that is not advisory: the rest matter too
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, &other), false));
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, nullptr), false));
  a.forget(7);
  EXPECT_FALSE(a.is_advisory(denial(CAP_SYS_ADMIN, SYS_mmap, nullptr), false));
}

TEST(Advisory, NoauditIsAdvisoryOnlyWhereTheHookGivesOpts) {
  auto syms = symbols();
  AdvisoryDenials a(syms);
  std::vector<uint64_t> bind{0xffffffff81003040};
  auto d = denial(CAP_NET_BIND_SERVICE, SYS_bind, &bind);
  d.check.opts = 2;  // CAP_OPT_NOAUDIT
  EXPECT_TRUE(a.is_advisory(d, true));
  EXPECT_FALSE(a.is_advisory(d, false));
}

}  // namespace
}  // namespace capaudit::record
