// For each helper operation, a real recording holds the expected capability
// check, with the verdict the kernel must have given and the right syscall.
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

// Facts come from cgroup programs by default (no host-wide cost, no return
// value) or, with --facts sys_exit, from the syscall-exit tracepoint.
class FactsTest : public ::testing::TestWithParam<const char*> {
 protected:
  bool from_sys_exit() const { return std::string(GetParam()) == "sys_exit"; }
  Recording record_with_facts(const std::string& op, const std::string& name) {
    return record({"--facts", GetParam()}, {helper_path(), op}, name + "-" + GetParam());
  }
  void expect_source(const Recording& r) const {
    EXPECT_EQ(r.trace.header.facts_source,
              from_sys_exit() ? common::FactsSource::sys_exit : common::FactsSource::cgroup_hooks);
  }
};

TEST_P(FactsTest, BindRecordsPortFamilyTypeAndResult) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record_with_facts("bind-udp6-80", "bindfact");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  expect_source(r);
  const auto facts = r.trace.facts();
  ASSERT_EQ(facts.size(), 1u);
  const auto& op = facts[0];
  EXPECT_EQ(op.kind, common::OpKind::bind);
  EXPECT_EQ(op.a0, AF_INET6);
  EXPECT_EQ(op.a1, 80);
  EXPECT_EQ(op.a2, SOCK_DGRAM);
  EXPECT_EQ(op.a3, IPPROTO_UDP);
  EXPECT_EQ(op.syscall_nr, SYS_bind);
  if (from_sys_exit()) {
    ASSERT_TRUE(op.ret.has_value());
    EXPECT_EQ(*op.ret, 0);
  } else {
    EXPECT_FALSE(op.ret.has_value());
  }
}

TEST_P(FactsTest, RawSocketRecordsTheTriple) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record_with_facts("raw-socket", "rawfact");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  const auto facts = r.trace.facts();
  ASSERT_EQ(facts.size(), 1u);
  const auto& op = facts[0];
  EXPECT_EQ(op.kind, common::OpKind::socket);
  EXPECT_EQ(op.a0, AF_INET);
  EXPECT_EQ(op.a1 & 0xf, SOCK_RAW);
  EXPECT_EQ(op.a2, IPPROTO_ICMP);
  EXPECT_EQ(op.ret.has_value(), from_sys_exit());
  if (op.ret) EXPECT_GE(*op.ret, 0);  // a file descriptor
}

TEST_P(FactsTest, IcmpSocketIsRecordedWithoutAnyCheck) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record_with_facts("icmp-socket", "icmp");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  for (const auto& c : r.trace.checks) EXPECT_NE(c.syscall_nr, SYS_socket) << "cap " << c.cap;
  // Its success depends on ping_group_range, not on a capability. The syscall
  // exit sees every attempt with its result; the cgroup program runs only for
  // a socket the kernel created, so a refused one is absent (documented).
  const bool created = r.run.exit_code() == 0;
  if (!from_sys_exit() && !created) {
    EXPECT_TRUE(r.trace.facts().empty());
    return;
  }
  const auto facts = r.trace.facts();
  ASSERT_EQ(facts.size(), 1u);
  const auto& op = facts[0];
  EXPECT_EQ(op.kind, common::OpKind::socket);
  EXPECT_EQ(op.a1 & 0xf, SOCK_DGRAM);
  EXPECT_EQ(op.a2, IPPROTO_ICMP);
  EXPECT_EQ(op.ret.has_value(), from_sys_exit());
  if (op.ret) EXPECT_EQ(*op.ret >= 0, created);
}

INSTANTIATE_TEST_SUITE_P(Source, FactsTest, ::testing::Values("auto", "sys_exit"));

// Link facts (may_linkat(), format 1.9) come only with --facts sys_exit and
// only where the kernel allows a trampoline or a kprobe: the trace says how,
// or why not, and so does stderr. On the 6.18 development host both are
// refused, so `ln` recorded there has no link fact and the header says
// "unavailable" with the hook probe's reasons.
TEST(Operations, LinkFactsSayHowOrWhyNot) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string src = temp_trace_path("linksrc"), dst = src + ".ln";
  std::ofstream(src) << "x";
  auto r = record({"--facts", "sys_exit"}, {"/bin/ln", src, dst}, "linkfact");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << "\n" << r.run.err;
  const auto& h = r.trace.header;
  bool probes_work = false;  // the hook probe found trampolines or kprobes working
  for (const auto& a : h.hook_attempts)
    if (a.hook == common::Hook::fexit || a.hook == common::Hook::kprobe)
      probes_work |= a.used || a.reason.find("works") != std::string::npos;
  std::vector<common::OperationFact> links;
  for (const auto& f : r.trace.operations)
    if (f.kind == common::OpKind::link && f.pid == r.trace.target_pid()) links.push_back(f);
  EXPECT_EQ(h.link_facts, probes_work) << h.link_facts_reason;
  if (h.link_facts) {
    EXPECT_NE(h.link_facts_reason.find("may_linkat attached"), std::string::npos) << h.link_facts_reason;
    ASSERT_EQ(links.size(), 1u);
    EXPECT_FALSE(links[0].ret.has_value());
    EXPECT_EQ(links[0].state_at(common::StateSlot::link_src_uid), links[0].state_at(common::StateSlot::fsuid));
    EXPECT_EQ(links[0].state_at(common::StateSlot::link_src_mode).value_or(0) & 0170000, 0100000);
  } else {
    EXPECT_EQ(h.link_facts_reason.rfind("unavailable: ", 0), 0u) << h.link_facts_reason;
    EXPECT_NE(h.link_facts_reason.find("fexit/cap_capable"), std::string::npos) << h.link_facts_reason;
    EXPECT_NE(r.run.err.find("link facts (may_linkat): unavailable"), std::string::npos) << r.run.err;
    EXPECT_TRUE(links.empty());
  }
  std::filesystem::remove(dst);
  // Without --facts sys_exit nothing is attached for them, and the trace says so.
  auto off = record({}, {"/bin/ln", src, dst}, "linkoff");
  ASSERT_EQ(off.trace.read.status, common::ReadStatus::complete) << off.trace.read.message;
  EXPECT_FALSE(off.trace.header.link_facts);
  EXPECT_EQ(off.trace.header.link_facts_reason.rfind("off: ", 0), 0u) << off.trace.header.link_facts_reason;
  for (const auto& f : off.trace.operations) EXPECT_NE(f.kind, common::OpKind::link);
  for (const auto& p : {src, dst, r.path, off.path}) std::filesystem::remove(p);
}

TEST(Operations, CapsetDropRecordsMasksAndTheDeniedSecondBind) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({"--outcomes", "all"}, {helper_path(), "capset-drop"}, "capset");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  EXPECT_EQ(r.trace.header.outcome_tracking, common::OutcomeTracking::from_start);
  ASSERT_EQ(r.trace.capsets.size(), 1u);
  EXPECT_EQ(r.trace.capsets[0].source, common::CapsetSource::cred_change);
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

TEST(Operations, SetuidAwayFromRootIsACredentialChangeBeforeTheNextEvent) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "setuid"}, "setuid-away");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  const uint32_t target = r.trace.target_pid();
  // Noticed at the exit, the next event of that thread: ids and emptied sets.
  std::vector<common::CapsetEvent> changes;
  for (const auto& c : r.trace.capsets)
    if (c.pid == target) changes.push_back(c);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].source, common::CapsetSource::cred_change);
  ASSERT_TRUE(changes[0].ids.has_value());
  EXPECT_EQ(changes[0].ids->uid, 65534u);
  EXPECT_EQ(changes[0].ids->euid, 65534u);
  EXPECT_EQ(changes[0].permitted, 0u);
  EXPECT_EQ(changes[0].effective, 0u);
  uint64_t setuid_check = 0, exit_time = 0;
  for (const auto& c : r.trace.checks_of(CAP_SETUID))
    if (c.pid == target && c.syscall_nr == SYS_setuid) setuid_check = c.time_ns;
  for (const auto& e : r.trace.exits)
    if (e.pid == target) exit_time = e.time_ns;
  EXPECT_GT(changes[0].time_ns, setuid_check);
  EXPECT_LE(changes[0].time_ns, exit_time);
}

TEST(Operations, OutcomesAreTrackedFromTheFirstDenialOn) {
  CAPAUDIT_REQUIRE_ROOT();
  // Two denied binds half a second apart: the first starts outcome tracking
  // (its own syscall has returned by then), the second gets its outcome.
  // --outcome-window 0: attached from the first denial to the end (the windows have their own test).
  auto r = record({"--outcomes", "first-denial", "--outcome-window", "0", "--caps", "none"},
                  {helper_path(), "repeat", "2", "0.5", "bind-tcp4-80"}, "lazy-outcomes");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.run.err;
  EXPECT_EQ(r.trace.header.outcome_tracking, common::OutcomeTracking::from_first_denial);
  auto binds = r.trace.checks_of(CAP_NET_BIND_SERVICE);
  ASSERT_EQ(binds.size(), 2u);
  EXPECT_FALSE(binds[0].granted);
  EXPECT_FALSE(binds[1].granted);
  EXPECT_GT(r.trace.trailer.outcomes_from_ns, binds[0].time_ns);
  EXPECT_LT(r.trace.trailer.outcomes_from_ns, binds[1].time_ns);
  ASSERT_EQ(r.trace.outcomes.size(), 1u);
  EXPECT_EQ(r.trace.outcomes[0].syscall_nr, SYS_bind);
  EXPECT_EQ(r.trace.outcomes[0].ret, -EACCES);
  EXPECT_GT(r.trace.outcomes[0].time_ns, binds[1].time_ns);
  EXPECT_EQ(r.trace.trailer.losses.outcomes_missed, 0u);
}

TEST(Operations, WithoutADenialTheSyscallExitTracepointIsNeverAttached) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {helper_path(), "bind-tcp4-80"}, "no-denial");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete);
  EXPECT_EQ(r.trace.header.facts_source, common::FactsSource::cgroup_hooks);
  EXPECT_EQ(r.trace.header.outcome_tracking, common::OutcomeTracking::in_windows);
  EXPECT_EQ(r.trace.trailer.outcomes_from_ns, 0u);
  EXPECT_TRUE(r.trace.outcomes.empty());
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
