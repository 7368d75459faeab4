// For each helper operation, a real recording holds the expected capability
// check, with the verdict the kernel must have given and the right syscall.
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>

#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

struct OpCase {
  const char* op;
  int cap;
  std::set<int> syscalls;  // any of these (libc may pick the *at variant)
};

std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.op; }

class OperationTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(OperationTest, TraceHoldsTheCheckWithVerdictAndSyscall) {
  CAPAUDIT_REQUIRE_ROOT();
  const OpCase& c = GetParam();
  auto r = record({}, {helper_path(), c.op}, c.op);
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << "\n" << r.run.err;
  ASSERT_FALSE(r.trace.execs.empty());
  const uint32_t target = r.trace.target_pid();
  // The kernel grants a check iff the capability is effective; the helper
  // inherits ours (root's bounding set may lack some, e.g. SYS_RESOURCE here).
  const bool expect_granted = has_effective_cap(c.cap);
  bool found = false;
  for (const auto& chk : r.trace.checks_of(c.cap)) {
    if (chk.pid != target || !c.syscalls.count(chk.syscall_nr)) continue;
    found = true;
    EXPECT_EQ(chk.granted, expect_granted);
  }
  EXPECT_TRUE(found) << c.op << ": no check of cap " << c.cap << " in the right syscall; helper said: "
                     << r.run.out << r.run.err;
  EXPECT_EQ(r.trace.trailer.stop_reason, "target exited");
  EXPECT_TRUE(r.trace.trailer.clean_shutdown);
  EXPECT_EQ(r.trace.trailer.losses.ringbuf_drops, 0u);
  std::filesystem::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(
    Helper, OperationTest,
    ::testing::Values(OpCase{"bind-tcp4-80", CAP_NET_BIND_SERVICE, {SYS_bind}},
                      OpCase{"bind-tcp6-80", CAP_NET_BIND_SERVICE, {SYS_bind}},
                      OpCase{"bind-udp4-80", CAP_NET_BIND_SERVICE, {SYS_bind}},
                      OpCase{"bind-udp6-80", CAP_NET_BIND_SERVICE, {SYS_bind}},
                      OpCase{"raw-socket", CAP_NET_RAW, {SYS_socket}},
                      OpCase{"chown", CAP_CHOWN, {SYS_chown, SYS_fchownat, SYS_lchown, SYS_fchown}},
                      OpCase{"setuid", CAP_SETUID, {SYS_setuid}},
                      OpCase{"setgid", CAP_SETGID, {SYS_setgid}},
                      OpCase{"setgroups", CAP_SETGID, {SYS_setgroups}},
                      OpCase{"kill-other-uid", CAP_KILL, {SYS_kill}},
                      OpCase{"mknod-char", CAP_MKNOD, {SYS_mknod, SYS_mknodat}},
                      OpCase{"sethostname-uts", CAP_SYS_ADMIN, {SYS_sethostname}},
                      OpCase{"mount-tmpfs", CAP_SYS_ADMIN, {SYS_mount}},
                      OpCase{"raise-hard-rlimit", CAP_SYS_RESOURCE, {SYS_prlimit64, SYS_setrlimit}},
                      OpCase{"mlock-beyond", CAP_IPC_LOCK, {SYS_mlock}},
                      OpCase{"nice-10", CAP_SYS_NICE, {SYS_setpriority}},
                      // checks cap_capable() makes inlined into commoncap.c on 6.1/6.12
                      OpCase{"capset-inheritable", CAP_SETPCAP, {SYS_capset}},
                      OpCase{"mmap-low", CAP_SYS_RAWIO, {SYS_mmap}}),
    [](const auto& info) {
      std::string n = info.param.op;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

TEST(Operations, ReadKmsgChecksSyslogWhenDmesgRestricted) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "read-kmsg"}, "kmsg");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message;
  bool found = false;
  for (const auto& chk : r.trace.checks_of(CAP_SYSLOG))
    found |= chk.pid == r.trace.target_pid() && chk.syscall_nr == SYS_syslog && chk.granted;
  // dmesg_restrict=0 lets anyone read: then there must be no SYSLOG check in syslog().
  EXPECT_EQ(found, read_sysctl("/proc/sys/kernel/dmesg_restrict") == "1");
}

TEST(Operations, BindRecordsPortFamilyTypeAndResult) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "bind-udp6-80"}, "bindfact");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.trace.operations.size(), 1u);
  const auto& op = r.trace.operations[0];
  EXPECT_EQ(op.kind, common::OpKind::bind);
  EXPECT_EQ(op.a0, AF_INET6);
  EXPECT_EQ(op.a1, 80);
  EXPECT_EQ(op.a2, SOCK_DGRAM);
  EXPECT_EQ(op.a3, IPPROTO_UDP);
  ASSERT_TRUE(op.ret.has_value());
  EXPECT_EQ(*op.ret, 0);
  EXPECT_EQ(op.syscall_nr, SYS_bind);
}

TEST(Operations, RawSocketRecordsTheTriple) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "raw-socket"}, "rawfact");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.trace.operations.size(), 1u);
  const auto& op = r.trace.operations[0];
  EXPECT_EQ(op.kind, common::OpKind::socket);
  EXPECT_EQ(op.a0, AF_INET);
  EXPECT_EQ(op.a1 & 0xf, SOCK_RAW);
  EXPECT_EQ(op.a2, IPPROTO_ICMP);
  ASSERT_TRUE(op.ret.has_value());
  EXPECT_GE(*op.ret, 0);  // a file descriptor
}

TEST(Operations, IcmpSocketIsRecordedWithoutAnyCheck) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "icmp-socket"}, "icmp");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.trace.operations.size(), 1u);
  const auto& op = r.trace.operations[0];
  EXPECT_EQ(op.kind, common::OpKind::socket);
  EXPECT_EQ(op.a1 & 0xf, SOCK_DGRAM);
  EXPECT_EQ(op.a2, IPPROTO_ICMP);
  // Its success depends on ping_group_range, not on a capability: the fact
  // must be there either way, and its result must match what the helper saw.
  ASSERT_TRUE(op.ret.has_value());
  EXPECT_EQ(*op.ret >= 0, r.run.exit_code() == 0);
  for (const auto& c : r.trace.checks) EXPECT_NE(c.syscall_nr, SYS_socket) << "cap " << c.cap;
}

TEST(Operations, CapsetDropRecordsMasksAndTheDeniedSecondBind) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "capset-drop"}, "capset");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  ASSERT_EQ(r.trace.capsets.size(), 1u);
  EXPECT_EQ(r.trace.capsets[0].effective, 0u);
  EXPECT_EQ(r.trace.capsets[0].permitted, 0u);
  auto binds = r.trace.checks_of(CAP_NET_BIND_SERVICE);
  ASSERT_EQ(binds.size(), 2u);
  EXPECT_TRUE(binds[0].granted);
  EXPECT_FALSE(binds[1].granted);
  EXPECT_LT(binds[0].time_ns, r.trace.capsets[0].time_ns);
  EXPECT_GT(binds[1].time_ns, r.trace.capsets[0].time_ns);
  ASSERT_EQ(r.trace.outcomes.size(), 1u);
  EXPECT_EQ(r.trace.outcomes[0].syscall_nr, SYS_bind);
  EXPECT_EQ(r.trace.outcomes[0].ret, -EACCES);
}

TEST(Operations, EveryCheckHasAStackOrIsCountedAsUnsampled) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({"--stacks-per-key", "2"}, {helper_path(), "setuid-loop", "50"}, "stacks");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  std::set<uint32_t> ids;
  for (const auto& s : r.trace.stacks) {
    EXPECT_TRUE(ids.insert(s.id).second) << "stack " << s.id << " stored twice";
    ASSERT_FALSE(s.frames.empty());
  }
  uint64_t with = 0, without = 0, setuid_with = 0;
  for (const auto& c : r.trace.checks) {
    if (c.stack_id) {
      ++with;
      EXPECT_TRUE(ids.count(c.stack_id)) << "dangling stack id " << c.stack_id;
      if (c.cap == CAP_SETUID && c.syscall_nr == SYS_setuid) ++setuid_with;
    } else {
      ++without;
    }
  }
  EXPECT_EQ(setuid_with, 2u);  // the per-key budget
  EXPECT_EQ(without, r.trace.trailer.losses.stacks_unsampled);
  EXPECT_EQ(r.trace.header.stacks_per_key, 2u);
  // The path of a setuid() check goes through the kernel's setuid code.
  bool via_setuid = false;
  for (const auto& c : r.trace.checks)
    if (c.cap == CAP_SETUID && c.stack_id)
      for (const auto& s : r.trace.stacks)
        if (s.id == c.stack_id)
          for (const auto& f : s.frames) via_setuid |= f.find("setuid") != std::string::npos;
  EXPECT_TRUE(via_setuid);
}

}  // namespace
}  // namespace capaudit::test
