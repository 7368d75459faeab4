// kallsyms parsing, symbolization and the content-addressed stack table.
#include <gtest/gtest.h>

#include <sstream>

#include "record/drain/kernel_stacks.h"

namespace capaudit::record {
namespace {

KernelSymbols sample() {
  std::istringstream in(
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t cap_capable\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T __sys_setuid\n"
      "ffffffffc0000000 t nf_hook [nf_tables]\n"
      "0000000000000000 T hidden_by_kptr_restrict\n");
  return KernelSymbols::parse(in);
}

TEST(KernelSymbols, DescribesAddressesAsFunctionPlusOffset) {
  auto s = sample();
  EXPECT_EQ(s.size(), 4u);  // data and zero addresses skipped
  EXPECT_EQ(s.describe(0xffffffff81000105), "cap_capable+0x5");
  // Data symbols are not code: an address past one belongs to the previous function.
  EXPECT_EQ(s.describe(0xffffffff81000210), "cap_capable+0x110");
  EXPECT_EQ(s.describe(0xffffffff81000300), "__sys_setuid+0x0");
  EXPECT_EQ(s.describe(0xffffffffc0000010), "nf_hook+0x10 [nf_tables]");
  EXPECT_EQ(s.describe(0x1000), "0x1000");
}

TEST(KernelSymbols, AllZeroKallsymsIsEmpty) {
  std::istringstream in("0000000000000000 T a\n0000000000000000 t b\n");
  auto s = KernelSymbols::parse(in);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.describe(0xffffffff81000000), "0xffffffff81000000");
}

TEST(StackTable, SamePathSameIdStoredOnce) {
  auto syms = sample();
  StackTable table(syms);
  std::vector<uint64_t> a{0xffffffff81000101, 0xffffffff81000301};
  std::vector<uint64_t> b{0xffffffff81000102, 0xffffffff81000301};
  common::KernelStack out;
  bool is_new = false;
  EXPECT_EQ(table.intern(a, &out, &is_new), 1u);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(out.id, 1u);
  EXPECT_EQ(out.frames, (std::vector<std::string>{"cap_capable+0x1", "__sys_setuid+0x1"}));
  EXPECT_EQ(table.intern(b, &out, &is_new), 2u);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(table.intern(a, &out, &is_new), 1u);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(table.size(), 2u);
}

TEST(StackTable, LeadingTracingFramesAreDropped) {
  std::istringstream in(
      "ffffffff81000000 T bpf_trace_run5\n"
      "ffffffff81000100 t cap_capable\n"
      "ffffffff81000300 T __sys_setuid\n"
      "ffffffffc0001000 t bpf_prog_3ab88f7f41be7331_tp_cap_capable [bpf]\n");
  auto syms = KernelSymbols::parse(in);
  StackTable table(syms);
  std::vector<uint64_t> ips{0xffffffffc0001010, 0xffffffff81000010, 0xffffffff81000105, 0xffffffff81000301};
  common::KernelStack out;
  bool is_new = false;
  table.intern(ips, &out, &is_new);
  EXPECT_EQ(out.frames, (std::vector<std::string>{"cap_capable+0x5", "__sys_setuid+0x1"}));
}

}  // namespace
}  // namespace capaudit::record
