// One test per causal rule: the rule fires for its operation in the direction
// the kernel source says, and stays silent (unknown) when a value is missing.
#include <gtest/gtest.h>

#include "analyze/core/catalogue.h"
#include "analyze/core/rules.h"

namespace capaudit::analyze {
namespace {

using common::OpKind;

const Rule& rule(const std::string& id) {
  for (const auto& r : builtin_rules().rules)
    if (r.id == id) return r;
  throw std::runtime_error("no rule " + id);
}

struct Eval {
  std::optional<bool> applies, needed, impossible;
};

Eval eval(const std::string& id, OpValues op, std::initializer_list<std::pair<const char*, const char*>> kv) {
  Profile p;
  for (const auto& [k, v] : kv) p.set(k, v);
  const Rule& r = rule(id);
  const auto& set = builtin_rules();
  Eval e;
  e.applies = r.applies ? evaluate(*r.applies, op, p, set) : std::optional<bool>(true);
  e.needed = evaluate(*r.needed, op, p, set);
  e.impossible = r.impossible ? evaluate(*r.impossible, op, p, set) : std::optional<bool>(false);
  return e;
}

OpValues op(OpKind k, int64_t a0, int64_t a1 = 0, int64_t a2 = 0, int64_t a3 = 0) {
  OpValues v;
  v.kind = k;
  v.a[0] = a0;
  v.a[1] = a1;
  v.a[2] = a2;
  v.a[3] = a3;
  return v;
}

TEST(Rules, BuiltinTableParsesAndCoversTheDesignTable) {
  const auto& set = builtin_rules();
  for (const char* id : {"bind_port", "ping_group", "dmesg_restrict", "kallsyms", "perf_kernel", "unprivileged_bpf",
                         "yama_ptrace", "io_uring_disabled", "userfaultfd", "userns_clone", "mmap_min_addr",
                         "pipe_max_size", "mqueue_limits", "memlock", "rtprio", "raise_hard_limit"})
    EXPECT_TRUE(rule(id).evaluable) << id;
  EXPECT_FALSE(rule("protected_hardlinks").evaluable);
  for (const auto& r : set.rules) EXPECT_FALSE(r.kernel.empty()) << r.id;
}

TEST(Rules, BindPort) {
  auto e = eval("bind_port", op(OpKind::bind, 2, 80), {{"net.ipv4.ip_unprivileged_port_start", "1024"}});
  EXPECT_EQ(e.applies, true);
  EXPECT_EQ(e.needed, true);
  EXPECT_EQ(eval("bind_port", op(OpKind::bind, 10, 80), {{"net.ipv4.ip_unprivileged_port_start", "0"}}).needed, false);
  EXPECT_EQ(eval("bind_port", op(OpKind::bind, 2, 1024), {{"net.ipv4.ip_unprivileged_port_start", "1024"}}).needed, false);
  EXPECT_EQ(eval("bind_port", op(OpKind::bind, 2, 0), {}).applies, false);   // ephemeral port
  EXPECT_EQ(eval("bind_port", op(OpKind::bind, 1, 80), {}).applies, false);  // AF_UNIX
  EXPECT_EQ(eval("bind_port", op(OpKind::bind, 2, 80), {}).needed, std::nullopt);
}

TEST(Rules, PingGroup) {
  OpValues v = op(OpKind::socket, 2, 2 | 0x80000 /*SOCK_CLOEXEC*/, 1);
  v.gid = 1000;
  auto e = eval("ping_group", v, {{"net.ipv4.ping_group_range", "1 0"}});
  EXPECT_EQ(e.applies, true);
  EXPECT_EQ(e.needed, true);
  EXPECT_EQ(eval("ping_group", v, {{"net.ipv4.ping_group_range", "0 2147483647"}}).needed, false);
  EXPECT_EQ(eval("ping_group", op(OpKind::socket, 2, 1, 6), {}).applies, false);  // TCP
  EXPECT_EQ(eval("ping_group", op(OpKind::socket, 10, 2, 58), {}).applies, true);
}

TEST(Rules, DmesgRestrict) {
  EXPECT_EQ(eval("dmesg_restrict", op(OpKind::syslog, 3), {{"kernel.dmesg_restrict", "1"}}).needed, true);
  EXPECT_EQ(eval("dmesg_restrict", op(OpKind::syslog, 3), {{"kernel.dmesg_restrict", "0"}}).needed, false);
  EXPECT_EQ(eval("dmesg_restrict", op(OpKind::syslog, 5 /*CLEAR*/), {}).applies, false);
}

TEST(Rules, KallsymsNeedsBothSysctls) {
  auto o = op(OpKind::open_sensitive, 1);
  EXPECT_EQ(eval("kallsyms", o, {{"kernel.kptr_restrict", "0"}, {"kernel.perf_event_paranoid", "1"}}).needed, false);
  EXPECT_EQ(eval("kallsyms", o, {{"kernel.kptr_restrict", "0"}, {"kernel.perf_event_paranoid", "2"}}).needed, true);
  EXPECT_EQ(eval("kallsyms", o, {{"kernel.kptr_restrict", "1"}, {"kernel.perf_event_paranoid", "-1"}}).needed, true);
  auto two = eval("kallsyms", o, {{"kernel.kptr_restrict", "2"}, {"kernel.perf_event_paranoid", "1"}});
  EXPECT_EQ(two.impossible, true);
  EXPECT_EQ(two.needed, false);
  // kptr_restrict=1 decides without perf_event_paranoid (Kleene logic).
  EXPECT_EQ(eval("kallsyms", o, {{"kernel.kptr_restrict", "1"}}).needed, true);
}

TEST(Rules, PerfEventParanoid) {
  EXPECT_EQ(eval("perf_kernel", op(OpKind::perf_event_open, 0, -1, 0, 0), {{"kernel.perf_event_paranoid", "2"}}).needed, true);
  EXPECT_EQ(eval("perf_kernel", op(OpKind::perf_event_open, 0, -1, 0, 1), {}).applies, false);
  EXPECT_EQ(eval("perf_cpu", op(OpKind::perf_event_open, -1, 0, 0, 1), {{"kernel.perf_event_paranoid", "1"}}).needed, true);
  EXPECT_EQ(eval("perf_debian_restrict", op(OpKind::perf_event_open, 0), {{"kernel.perf_event_paranoid", "3"}}).needed, true);
  EXPECT_EQ(eval("perf_debian_restrict", op(OpKind::perf_event_open, 0), {{"kernel.perf_event_paranoid", "2"}}).needed, false);
}

TEST(Rules, UnprivilegedBpf) {
  EXPECT_EQ(eval("unprivileged_bpf", op(OpKind::bpf, 5), {{"kernel.unprivileged_bpf_disabled", "2"}}).needed, true);
  EXPECT_EQ(eval("unprivileged_bpf", op(OpKind::bpf, 0), {{"kernel.unprivileged_bpf_disabled", "0"}}).needed, false);
  EXPECT_EQ(eval("unprivileged_bpf", op(OpKind::bpf, 1 /*MAP_LOOKUP*/), {}).applies, false);
}

TEST(Rules, YamaPtraceScope) {
  OpValues o = op(OpKind::ptrace_attach, 1234, 16);
  o.descendant = false;
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "1"}}).needed, true);
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "0"}}).needed, false);
  o.descendant = true;
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "1"}}).needed, false);
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "2"}}).needed, true);
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "3"}}).impossible, true);
  o.descendant.reset();
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "1"}}).needed, std::nullopt);
  EXPECT_EQ(eval("yama_ptrace", o, {{"kernel.yama.ptrace_scope", "2"}}).needed, true);
}

TEST(Rules, IoUringUserfaultfdUserns) {
  OpValues o = op(OpKind::io_uring_setup, 8);
  o.gid = 50;
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "1"}, {"kernel.io_uring_group", "-1"}}).needed, true);
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "1"}, {"kernel.io_uring_group", "50"}}).needed, false);
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "2"}}).impossible, true);
  EXPECT_EQ(eval("userfaultfd", op(OpKind::userfaultfd, 0), {{"vm.unprivileged_userfaultfd", "0"}}).needed, true);
  EXPECT_EQ(eval("userfaultfd", op(OpKind::userfaultfd, 1), {}).applies, false);
  EXPECT_EQ(eval("userns_clone", op(OpKind::unshare_userns, 0x10000000), {{"kernel.unprivileged_userns_clone", "0"}}).needed, true);
  EXPECT_EQ(eval("userns_clone", op(OpKind::unshare_userns, 0x10000000), {{"user.max_user_namespaces", "0"}}).impossible, true);
}

TEST(Rules, MmapPipeMqueue) {
  EXPECT_EQ(eval("mmap_min_addr", op(OpKind::mmap_low, 4096), {{"vm.mmap_min_addr", "65536"}}).needed, true);
  EXPECT_EQ(eval("mmap_min_addr", op(OpKind::mmap_low, 4096), {{"vm.mmap_min_addr", "0"}}).needed, false);
  EXPECT_EQ(eval("pipe_max_size", op(OpKind::set_pipe_size, 2 << 20), {{"fs.pipe-max-size", "1048576"}}).needed, true);
  EXPECT_EQ(eval("pipe_max_size", op(OpKind::set_pipe_size, 65536), {{"fs.pipe-max-size", "1048576"}}).needed, false);
  EXPECT_EQ(eval("mqueue_limits", op(OpKind::mq_open, 10, 8192), {{"fs.mqueue.msg_max", "10"}, {"fs.mqueue.msgsize_max", "8192"}}).needed, false);
  EXPECT_EQ(eval("mqueue_limits", op(OpKind::mq_open, 11, 8192), {{"fs.mqueue.msg_max", "10"}, {"fs.mqueue.msgsize_max", "8192"}}).needed, true);
}

TEST(Rules, Rlimits) {
  EXPECT_EQ(eval("memlock", op(OpKind::mlock, 1 << 20), {{"rlimit.MEMLOCK.soft", "65536"}}).needed, true);
  EXPECT_EQ(eval("memlock", op(OpKind::mlock, 1 << 20), {{"rlimit.MEMLOCK.soft", "unlimited"}}).needed, false);
  EXPECT_EQ(eval("rtprio", op(OpKind::sched_setscheduler, 1, 50), {{"rlimit.RTPRIO.soft", "0"}}).needed, true);
  EXPECT_EQ(eval("rtprio", op(OpKind::sched_setscheduler, 0, 0), {}).applies, false);  // SCHED_OTHER
  EXPECT_EQ(eval("raise_hard_limit", op(OpKind::setrlimit, 7, 4096, 1 << 20), {{"rlimit.NOFILE.hard", "524288"}}).needed, true);
  EXPECT_EQ(eval("raise_hard_limit", op(OpKind::setrlimit, 7, 4096, 4096), {{"rlimit.NOFILE.hard", "524288"}}).needed, false);
}

TEST(RuleParser, ReportsErrorsWithLines) {
  auto p = parse_rules(
      "[constants]\nX = 1\n"
      "[rule a]\noperation = bind\ncapability = CAP_CHOWN\nneeded = a1 < (\n"
      "[rule b]\noperation = nosuch\ncapability = CAP_NOPE\nneeded = Y == 1\n");
  ASSERT_GE(p.errors.size(), 4u);
  EXPECT_EQ(p.errors[0].line, 6);
  bool unknown_constant = false;
  for (const auto& e : p.errors) unknown_constant |= e.message.find("unknown constant 'Y'") != std::string::npos;
  EXPECT_TRUE(unknown_constant);
}

TEST(RuleParser, ExpressionsAreThreeValued) {
  auto p = parse_rules("[rule r]\noperation = bind\ncapability = CAP_CHOWN\nneeded = (a0 == 1 || some.key > 3) && !(a1 & 4)\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].message;
  const auto& r = p.set.rules[0];
  Profile empty;
  EXPECT_EQ(evaluate(*r.needed, op(OpKind::bind, 1, 0), empty, p.set), true);
  EXPECT_EQ(evaluate(*r.needed, op(OpKind::bind, 1, 4), empty, p.set), false);
  EXPECT_EQ(evaluate(*r.needed, op(OpKind::bind, 0, 0), empty, p.set), std::nullopt);
  Profile p4;
  p4.set("some.key", "4");
  EXPECT_EQ(evaluate(*r.needed, op(OpKind::bind, 0, 0), p4, p.set), true);
}

TEST(Catalogue, MatchesFunctionsNotOffsetsOrClones) {
  const auto& cat = builtin_catalogue();
  EXPECT_NE(cat.match(21, {"cap_capable+131", "security_vm_enough_memory_mm+54", "__mmap_region+3409"}), nullptr);
  EXPECT_EQ(cat.match(24, {"cap_capable+131", "security_vm_enough_memory_mm+54"}), nullptr);  // other cap
  EXPECT_NE(cat.match(7, {"cap_capable", "cap_bprm_creds_from_file.isra.0+12"}), nullptr);
  EXPECT_EQ(cat.match(21, {"cap_capable+131", "ns_capable+20", "path_mount+400"}), nullptr);
  EXPECT_NE(cat.match_fallback(21, 9), nullptr);  // SYS_ADMIN in mmap
  EXPECT_EQ(frame_function("do_execveat_common.isra.0+422/0x1f0 [kernel]"), "do_execveat_common");
}

}  // namespace
}  // namespace capaudit::analyze
