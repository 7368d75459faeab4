// User-space stacks in real recordings (issue #18, format 1.6): the helper,
// built with frame pointers, does a privileged operation; the check's user
// stack must name the helper's own file by the build ID binutils reads and
// by an offset inside its executable segment.
#include <linux/capability.h>
#include <sys/syscall.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

// File range [offset, offset + filesz) of the executable LOAD segment, from `readelf -lW`.
std::optional<std::pair<uint64_t, uint64_t>> text_segment(const std::string& path) {
  std::istringstream in(command_output("readelf -lW '" + path + "'"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string type, off, vaddr, paddr, filesz, memsz, flags;
    if (!(f >> type >> off >> vaddr >> paddr >> filesz >> memsz) || type != "LOAD") continue;
    std::string rest;
    std::getline(f, rest);
    if (rest.find('E') == std::string::npos) continue;
    const uint64_t o = std::stoull(off, nullptr, 16);
    return std::make_pair(o, o + std::stoull(filesz, nullptr, 16));
  }
  return std::nullopt;
}

const common::UserStack* user_stack(const Trace& t, uint32_t id) {
  for (const auto& u : t.user_stacks)
    if (u.id == id) return &u;
  return nullptr;
}

struct Case {
  const char* op;
  int cap;
  std::set<int> syscalls;
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.op; }

class UserStackTest : public ::testing::TestWithParam<Case> {};

TEST_P(UserStackTest, TheChecksStackNamesTheHelperByBuildIdAndTextOffset) {
  CAPAUDIT_REQUIRE_ROOT();
  const Case& c = GetParam();
  const std::string helper = std::filesystem::canonical(helper_path()).string();
  const std::string build_id = readelf_build_id(helper);
  ASSERT_EQ(build_id.size(), 40u) << "readelf -n " << helper;
  const auto text = text_segment(helper);
  ASSERT_TRUE(text) << "readelf -lW " << helper;

  auto r = record({}, {helper, c.op}, c.op);  // user stacks are on by default
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << "\n" << r.run.err;
  EXPECT_TRUE(r.trace.header.user_stacks);
  EXPECT_EQ(r.trace.header.user_stack_depth, 32u);
  EXPECT_EQ(r.trace.trailer.counts.user_stacks, r.trace.user_stacks.size());
  const uint32_t target = r.trace.target_pid();
  const common::UserStack* stack = nullptr;
  for (const auto& chk : r.trace.checks_of(c.cap)) {
    if (chk.pid != target || !c.syscalls.count(chk.syscall_nr) || !chk.user_stack_id) continue;
    stack = user_stack(r.trace, chk.user_stack_id);
    ASSERT_NE(stack, nullptr) << "check refers to user stack " << chk.user_stack_id << ", not in the trace";
    break;
  }
  ASSERT_NE(stack, nullptr) << c.op << ": no check of cap " << c.cap << " with a user stack; helper said "
                            << r.run.out << r.run.err;
  ASSERT_FALSE(stack->frames.empty());
  // The innermost frame is libc's syscall wrapper (not the helper: libc has
  // no frame pointers), so the helper is further out.
  bool helper_frame = false;
  for (const auto& f : stack->frames) {
    if (f.build_id != build_id) continue;
    helper_frame = true;
    ASSERT_TRUE(f.has_offset);
    EXPECT_GE(f.file_offset, text->first) << "frame offset outside the helper's text";
    EXPECT_LT(f.file_offset, text->second) << "frame offset outside the helper's text";
    EXPECT_EQ(f.path, helper) << "path hint";
    EXPECT_NE(f.ip, 0u);
  }
  EXPECT_TRUE(helper_frame) << "no frame with the helper's build ID " << build_id;
  std::filesystem::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(Helper, UserStackTest,
                         ::testing::Values(Case{"bind-tcp4-80", CAP_NET_BIND_SERVICE, {SYS_bind}},
                                           Case{"chown", CAP_CHOWN, {SYS_chown, SYS_fchownat, SYS_lchown}}));

// The kernel cannot read a build ID while the process's mmap lock is held
// (mmap's own capability check runs under it): those frames come back as bare
// addresses. The recorder could name them from /proc/PID/maps only with
// CAP_SYS_PTRACE, which it gives up after attaching (a root target's maps are
// closed to it then), so they must stay bare: an address, no file, no offset.
TEST(UserStacks, FramesNobodyCouldNameStayBareAddresses) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "sleep", "1"}, "ustack-bare");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << "\n" << r.run.err;
  const uint32_t target = r.trace.target_pid();
  std::set<uint32_t> mmap_stacks;
  for (const auto& chk : r.trace.checks)
    if (chk.pid == target && chk.syscall_nr == SYS_mmap && chk.user_stack_id) mmap_stacks.insert(chk.user_stack_id);
  if (mmap_stacks.empty()) GTEST_SKIP() << "no capability check inside mmap() on this kernel";
  int bare = 0;
  for (uint32_t id : mmap_stacks) {
    const common::UserStack* u = user_stack(r.trace, id);
    ASSERT_NE(u, nullptr);
    for (const auto& f : u->frames) {
      EXPECT_NE(f.ip, 0u) << "a frame without address, file or offset is no frame";
      if (f.build_id.empty() && !f.has_offset) {
        ++bare;
        EXPECT_EQ(f.path, "") << "no file is claimed for an address nobody named";
      }
      // Where a file is named, it is the file's own build ID.
      if (!f.build_id.empty() && !f.path.empty()) EXPECT_EQ(f.build_id, readelf_build_id(f.path)) << f.path;
    }
  }
  EXPECT_GT(bare, 0) << "mmap() frames were expected as bare addresses (status IP) on 6.18";
  std::filesystem::remove(r.path);
}

TEST(UserStacks, OffRecordsNone) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({"--user-stacks", "off"}, {helper_path(), "bind-tcp4-80"}, "ustack-off");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << "\n" << r.run.err;
  EXPECT_FALSE(r.trace.header.user_stacks);
  EXPECT_EQ(r.trace.header.user_stack_depth, 0u);
  EXPECT_TRUE(r.trace.user_stacks.empty());
  EXPECT_FALSE(r.trace.stacks.empty()) << "kernel stacks stay on";
  for (const auto& c : r.trace.checks) EXPECT_EQ(c.user_stack_id, 0u);
  std::filesystem::remove(r.path);
}

}  // namespace
}  // namespace capaudit::test
