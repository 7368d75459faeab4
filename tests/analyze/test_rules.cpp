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

// A cap_check fact: syscall NR with its argument registers and user words.
OpValues chk(int32_t nr, std::vector<int64_t> args, std::vector<int64_t> user = {}) {
  OpValues v;
  v.kind = OpKind::cap_check;
  v.syscall_nr = nr;
  args.resize(6);
  v.args = args;
  v.user_words = user;
  return v;
}

TEST(Rules, BuiltinTableParsesAndCoversTheDesignTable) {
  const auto& set = builtin_rules();
  for (const char* id : {"bind_port", "ping_group", "dmesg_restrict", "dmesg_restrict_kmsg", "kallsyms", "perf_kernel",
                         "perf_cpu", "perf_task", "unprivileged_bpf", "yama_ptrace", "io_uring_disabled", "userfaultfd",
                         "userns_clone", "mmap_min_addr", "protected_hardlinks", "pipe_max_size", "mqueue_limits",
                         "memlock", "rtprio", "raise_hard_limit", "raise_hard_limit_setrlimit", "nice_limit"})
    EXPECT_TRUE(rule(id).evaluable) << id;
  for (const auto& r : set.rules) {
    EXPECT_FALSE(r.kernel.empty()) << r.id;
    EXPECT_FALSE(r.remedy.empty()) << r.id;
    // every rule but the bind/socket ones decides a check on a named kernel function
    if (r.operation == OpKind::cap_check) EXPECT_FALSE(r.frames.empty()) << r.id;
  }
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
  EXPECT_EQ(eval("dmesg_restrict", chk(103, {3}), {{"kernel.dmesg_restrict", "1"}}).needed, true);
  EXPECT_EQ(eval("dmesg_restrict", chk(103, {3}), {{"kernel.dmesg_restrict", "0"}}).needed, false);
  EXPECT_EQ(eval("dmesg_restrict", chk(103, {5 /*CLEAR*/}), {}).applies, false);
  EXPECT_EQ(eval("dmesg_restrict_kmsg", chk(257, {-100}), {{"kernel.dmesg_restrict", "1"}}).needed, true);
}

TEST(Rules, KallsymsNeedsBothSysctls) {
  auto o = chk(257, {-100});
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
  // perf_event_open(attr, pid, cpu, ...): int arguments arrive as 32 bits in a 64-bit register
  const int64_t minus1 = 0xffffffff;
  EXPECT_EQ(eval("perf_kernel", chk(298, {0, 0, minus1}, {1, 0, 0, 0, 0, 0}), {{"kernel.perf_event_paranoid", "2"}}).needed, true);
  EXPECT_EQ(eval("perf_kernel", chk(298, {0, 0, minus1}, {1, 0, 0, 0, 0, 0x20 /*exclude_kernel*/}), {}).applies, false);
  EXPECT_EQ(eval("perf_cpu", chk(298, {0, minus1, 0}), {{"kernel.perf_event_paranoid", "1"}}).needed, true);
  EXPECT_EQ(eval("perf_cpu", chk(298, {0, 0, minus1}), {}).applies, false);
  EXPECT_EQ(eval("perf_debian_restrict", chk(298, {0}), {{"kernel.perf_event_paranoid", "3"}}).needed, true);
  EXPECT_EQ(eval("perf_debian_restrict", chk(298, {0}), {{"kernel.perf_event_paranoid", "2"}}).needed, false);
  // Debian's patch asks capable(CAP_SYS_ADMIN), not perfmon_capable(): seen in
  // the 6.1/6.12 guests (tests/kernels/rules, perf_debian_restrict)
  EXPECT_EQ(rule("perf_debian_restrict").cap, 21 /* CAP_SYS_ADMIN */);
  // perf_check_permission(): monitoring oneself never needs it, another task is kept
  OpValues self = chk(298, {0, 0, minus1});
  self.pid = 77;
  EXPECT_EQ(eval("perf_task", self, {}).needed, false);
  self.args[1] = 77;
  EXPECT_EQ(eval("perf_task", self, {}).needed, false);
  self.args[1] = 78;
  EXPECT_EQ(eval("perf_task", self, {}).needed, true);
}

TEST(Rules, UnprivilegedBpf) {
  // bpf(cmd, attr, size): u0's low 32 bits are map_type / prog_type
  EXPECT_EQ(eval("unprivileged_bpf", chk(321, {5}, {1 /*SOCKET_FILTER*/}), {{"kernel.unprivileged_bpf_disabled", "2"}}).needed, true);
  EXPECT_EQ(eval("unprivileged_bpf", chk(321, {0}, {2 /*ARRAY*/}), {{"kernel.unprivileged_bpf_disabled", "0"}}).needed, false);
  EXPECT_EQ(eval("unprivileged_bpf", chk(321, {0}, {0x400000002}), {}).applies, true);  // key_size in the high half
  EXPECT_EQ(eval("unprivileged_bpf", chk(321, {0}, {7 /*STACK_TRACE: CAP_BPF regardless*/}), {}).applies, false);
  EXPECT_EQ(eval("unprivileged_bpf", chk(321, {1 /*MAP_LOOKUP*/}), {}).applies, false);
}

TEST(Rules, YamaPtraceScope) {
  OpValues o = chk(101, {16 /*PTRACE_ATTACH*/, 1234});
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
  EXPECT_EQ(eval("yama_ptrace", chk(101, {0 /*TRACEME*/}), {}).applies, false);
}

TEST(Rules, IoUringUserfaultfdUserns) {
  OpValues o = chk(425, {8});
  o.gid = 50;
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "1"}, {"kernel.io_uring_group", "-1"}}).needed, true);
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "1"}, {"kernel.io_uring_group", "50"}}).needed, false);
  EXPECT_EQ(eval("io_uring_disabled", o, {{"kernel.io_uring_disabled", "2"}}).impossible, true);
  EXPECT_EQ(eval("userfaultfd", chk(323, {0}), {{"vm.unprivileged_userfaultfd", "0"}}).needed, true);
  EXPECT_EQ(eval("userfaultfd", chk(323, {1}), {}).applies, false);
  EXPECT_EQ(eval("userns_clone", chk(272, {0x10000000}), {{"kernel.unprivileged_userns_clone", "0"}}).needed, true);
  EXPECT_EQ(eval("userns_clone", chk(272, {0x10000000}), {{"user.max_user_namespaces", "0"}}).impossible, true);
  EXPECT_EQ(eval("userns_clone", chk(272, {0x20000 /*CLONE_NEWNS*/}), {}).applies, false);
}

TEST(Rules, MmapPipeMqueueHardlinks) {
  EXPECT_EQ(eval("mmap_min_addr", chk(9, {4096}), {{"vm.mmap_min_addr", "65536"}}).needed, true);
  EXPECT_EQ(eval("mmap_min_addr", chk(9, {4096}), {{"vm.mmap_min_addr", "0"}}).needed, false);
  EXPECT_EQ(eval("pipe_max_size", chk(72, {3, 1031, 2 << 20}), {{"fs.pipe-max-size", "1048576"}}).needed, true);
  EXPECT_EQ(eval("pipe_max_size", chk(72, {3, 1031, 65536}), {{"fs.pipe-max-size", "1048576"}}).needed, false);
  // mq_open(name, flags, mode, attr): struct mq_attr {flags, maxmsg, msgsize, curmsgs}
  EXPECT_EQ(eval("mqueue_limits", chk(240, {0, 64}, {0, 10, 8192}), {{"fs.mqueue.msg_max", "10"}, {"fs.mqueue.msgsize_max", "8192"}}).needed, false);
  EXPECT_EQ(eval("mqueue_limits", chk(240, {0, 64}, {0, 11, 8192}), {{"fs.mqueue.msg_max", "10"}, {"fs.mqueue.msgsize_max", "8192"}}).needed, true);
  EXPECT_EQ(eval("protected_hardlinks", chk(86, {0, 0}), {{"fs.protected_hardlinks", "1"}}).needed, true);
  EXPECT_EQ(eval("protected_hardlinks", chk(86, {0, 0}), {{"fs.protected_hardlinks", "0"}}).needed, false);
}

TEST(Rules, Rlimits) {
  OpValues m = chk(149, {0, 1 << 20});
  m.locked_vm = 0;
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "1048576"}}).needed, false);
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "65536"}}).needed, true);
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "unlimited"}}).needed, false);
  m.locked_vm = 1;  // a page already locked tips it over
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "1048576"}}).needed, true);
  EXPECT_EQ(eval("memlock", chk(149, {0, 4096}), {{"rlimit.MEMLOCK.soft", "0"}}).needed, true);
  // sched_setscheduler(pid, policy, &param): priority in u0's low half
  EXPECT_EQ(eval("rtprio", chk(144, {0, 1}, {0x3800000032}), {{"rlimit.RTPRIO.soft", "0"}}).needed, true);
  EXPECT_EQ(eval("rtprio", chk(144, {0, 1}, {0x3800000032}), {{"rlimit.RTPRIO.soft", "50"}}).needed, false);
  EXPECT_EQ(eval("rtprio", chk(144, {0, 0}), {}).applies, false);  // SCHED_OTHER
  // prlimit64(pid, resource, &new, &old): the new hard limit is u1
  EXPECT_EQ(eval("raise_hard_limit", chk(302, {0, 7}, {4096, 1 << 20}), {{"rlimit.NOFILE.hard", "524288"}}).needed, true);
  EXPECT_EQ(eval("raise_hard_limit", chk(302, {0, 7}, {4096, 4096}), {{"rlimit.NOFILE.hard", "524288"}}).needed, false);
  EXPECT_EQ(eval("raise_hard_limit_setrlimit", chk(160, {7}, {4096, 1 << 20}), {{"rlimit.NOFILE.hard", "524288"}}).needed, true);
  EXPECT_EQ(eval("raise_hard_limit_setrlimit", chk(160, {7}, {4096, 4096}), {{"rlimit.NOFILE.hard", "524288"}}).needed, false);
  // Each names only the limit its call changes: a prlimit report listed
  // rlimit_hard(arg0) (pid 0 -> rlimit.CPU.hard) beside the real one.
  EXPECT_EQ(rule("raise_hard_limit").inputs, std::vector<std::string>{"rlimit.{arg1}.hard"});
  EXPECT_EQ(rule("raise_hard_limit_setrlimit").inputs, std::vector<std::string>{"rlimit.{arg0}.hard"});
  EXPECT_EQ(eval("raise_hard_limit", chk(160, {7}, {4096, 1 << 20}), {}).applies, false);
  // setpriority(which, who, nice): -5 as a 32-bit int
  EXPECT_EQ(eval("nice_limit", chk(141, {0, 0, 0xfffffffb}), {{"rlimit.NICE.soft", "0"}}).needed, true);
  EXPECT_EQ(eval("nice_limit", chk(141, {0, 0, 0xfffffffb}), {{"rlimit.NICE.soft", "25"}}).needed, false);
}

// A check's syscall number is its trace's architecture's: the rules' NR_
// constants and the rlimit a setrlimit/prlimit64 changes follow it.
TEST(Rules, SyscallNumbersAreTheTracesArchitectures) {
  OpValues x = chk(101, {16 /*PTRACE_ATTACH*/, 1234});  // ptrace on x86_64
  x.descendant = false;
  x.arch = "x86_64";
  EXPECT_EQ(eval("yama_ptrace", x, {{"kernel.yama.ptrace_scope", "1"}}).needed, true);
  OpValues a = x;
  a.arch = "aarch64";  // 101 is nanosleep there, ptrace 117
  EXPECT_EQ(eval("yama_ptrace", a, {{"kernel.yama.ptrace_scope", "1"}}).applies, false);
  a.syscall_nr = 117;
  EXPECT_EQ(eval("yama_ptrace", a, {{"kernel.yama.ptrace_scope", "1"}}).needed, true);

  // prlimit64(pid, RLIMIT_NOFILE, &new, &old) is 261 on arm64 (302 on x86_64):
  // the hard limit the kernel held at the check is arg1's
  std::vector<int64_t> state(static_cast<size_t>(common::StateSlot::count), common::kStateUnset);
  state[static_cast<size_t>(common::StateSlot::arg_rlimit_hard)] = 4096;
  OpValues p = chk(261, {0, 7}, {4096, 1 << 20});
  p.arch = "aarch64";
  state_keys(state, p);
  EXPECT_EQ(p.at_op.count("rlimit.NOFILE.hard"), 1u);
  EXPECT_EQ(eval("raise_hard_limit", p, {}).needed, true);
  OpValues px = chk(261, {0, 7}, {4096, 1 << 20});  // 261 on x86_64 is futimesat
  px.arch = "x86_64";
  state_keys(state, px);
  EXPECT_EQ(px.at_op.count("rlimit.NOFILE.hard"), 0u);
  EXPECT_EQ(eval("raise_hard_limit", px, {}).applies, false);

  // NR_<NAME> must name a syscall, like any other constant
  auto bad = parse_rules("[rule r]\noperation = cap_check\ncapability = CAP_CHOWN\nneeded = nr == NR_NO_SUCH_CALL\n");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].message.find("NR_NO_SUCH_CALL"), std::string::npos);
  EXPECT_TRUE(parse_rules("[rule r]\noperation = cap_check\ncapability = CAP_CHOWN\nneeded = nr == NR_PTRACE\n").errors.empty());
}

// An operation fact taken at its syscall's exit (--facts sys_exit): the
// rules that name it with `at_exit` read it, with their `*_at_exit`
// expressions where the state the syscall left differs from the check's.
Eval eval_at_exit(const std::string& id, OpValues op, std::initializer_list<std::pair<const char*, const char*>> kv) {
  Profile p;
  for (const auto& [k, v] : kv) p.set(k, v);
  const Rule& r = rule(id);
  EXPECT_EQ(r.at_exit, op.kind) << id;
  const auto& set = builtin_rules();
  const Expr* applies = r.applies_at_exit ? r.applies_at_exit.get() : r.applies.get();
  Eval e;
  e.applies = applies ? evaluate(*applies, op, p, set) : std::optional<bool>(true);
  e.needed = evaluate(r.needed_at_exit ? *r.needed_at_exit : *r.needed, op, p, set);
  return e;
}

TEST(Rules, AtExitFactsReadTheStateTheSyscallLeft) {
  // mlock of 1 MiB that succeeded: locked_vm already holds its 256 pages
  OpValues m = chk(149, {0, 1 << 20});
  m.kind = OpKind::mlock;
  m.ret = 0;
  m.locked_vm = 256;
  EXPECT_EQ(eval_at_exit("memlock", m, {{"rlimit.MEMLOCK.soft", "1048576"}}).needed, false);  // exactly the limit
  EXPECT_EQ(eval_at_exit("memlock", m, {{"rlimit.MEMLOCK.soft", "1044480"}}).needed, true);   // a page less
  // read as at a check it would count the pages twice
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "1048576"}}).needed, true);
  m.ret = -12;  // failed (ENOMEM): nothing was locked, as before the call
  m.locked_vm = 0;
  EXPECT_EQ(eval_at_exit("memlock", m, {{"rlimit.MEMLOCK.soft", "1048576"}}).needed, false);
  EXPECT_EQ(eval_at_exit("memlock", m, {{"rlimit.MEMLOCK.soft", "65536"}}).needed, true);

  // opens: which file the kernel opened, and for /dev/kmsg how
  OpValues o = chk(257, {-100, 0, 0});
  o.kind = OpKind::open_sensitive;
  o.a[0] = 2;       // FILE_KMSG
  o.a[1] = 0x8000;  // O_RDONLY | O_LARGEFILE
  EXPECT_EQ(eval_at_exit("dmesg_restrict_kmsg", o, {{"kernel.dmesg_restrict", "1"}}).applies, true);
  EXPECT_EQ(eval_at_exit("dmesg_restrict_kmsg", o, {{"kernel.dmesg_restrict", "1"}}).needed, true);
  EXPECT_EQ(eval_at_exit("kallsyms", o, {}).applies, false);
  o.a[1] = 0x8001;  // O_WRONLY: devkmsg_open() checks nothing
  EXPECT_EQ(eval_at_exit("dmesg_restrict_kmsg", o, {}).applies, false);
  o.a[0] = 1;  // FILE_KALLSYMS
  EXPECT_EQ(eval_at_exit("kallsyms", o, {{"kernel.kptr_restrict", "0"}, {"kernel.perf_event_paranoid", "2"}}).needed,
            true);

  // mmap: only a fixed address can be below vm.mmap_min_addr (a hint is rounded up)
  OpValues mm = chk(9, {0, 4096, 1, 0x22});
  mm.kind = OpKind::mmap_low;
  EXPECT_EQ(eval_at_exit("mmap_min_addr", mm, {}).applies, false);
  mm.args[3] = 0x32;  // MAP_FIXED
  EXPECT_EQ(eval_at_exit("mmap_min_addr", mm, {}).applies, true);
  EXPECT_EQ(eval_at_exit("mmap_min_addr", mm, {{"vm.mmap_min_addr", "4096"}}).needed, true);

  // setpriority: the old nice value is gone at exit; only a negative one is a sure lowering
  OpValues n = chk(141, {0, 0, 5});
  n.kind = OpKind::setpriority;
  EXPECT_EQ(eval_at_exit("nice_limit", n, {}).applies, false);
  n.args[2] = 0xfffffffb;  // -5
  EXPECT_EQ(eval_at_exit("nice_limit", n, {{"rlimit.NICE.soft", "0"}}).needed, true);

  // prlimit64 that set the hard limit: at exit the state holds the new one
  OpValues r = chk(302, {0, 7, 1}, {4096, 4096});
  r.kind = OpKind::setrlimit;
  std::vector<int64_t> state(static_cast<size_t>(common::StateSlot::count), common::kStateUnset);
  state[static_cast<size_t>(common::StateSlot::arg_rlimit_hard)] = 4096;
  state_keys(state, r);
  EXPECT_EQ(eval_at_exit("raise_hard_limit", r, {}).needed, false);
  Profile lower;
  lower.set("rlimit.NOFILE.hard", "1024");
  r.overlay = &lower;
  EXPECT_EQ(eval_at_exit("raise_hard_limit", r, {}).needed, true);

  // rules whose check the kernel always makes name no exit fact
  for (const char* id : {"userfaultfd", "mqueue_limits", "perf_task", "bind_port"})
    EXPECT_EQ(rule(id).at_exit, OpKind::unknown) << id;
}

// A link fact (format 1.9, may_linkat()'s entry): SRC_UID/SRC_GID/MODE of the
// source inode, the caller's fsuid/fsgid and supplementary-group membership.
OpValues link_fact(int64_t src_uid, int64_t src_gid, int64_t mode, int64_t fsuid, int64_t fsgid, int64_t in_groups = 0) {
  OpValues v = chk(86, {0x1000, 0x2000});  // link(old, new)
  v.kind = OpKind::link;
  std::vector<int64_t> state(static_cast<size_t>(common::StateSlot::count), common::kStateUnset);
  using common::StateSlot;
  state[static_cast<size_t>(StateSlot::link_src_uid)] = src_uid;
  state[static_cast<size_t>(StateSlot::link_src_gid)] = src_gid;
  state[static_cast<size_t>(StateSlot::link_src_mode)] = mode;
  state[static_cast<size_t>(StateSlot::fsuid)] = fsuid;
  state[static_cast<size_t>(StateSlot::fsgid)] = fsgid;
  state[static_cast<size_t>(StateSlot::link_src_in_groups)] = in_groups;
  state_keys(state, v);
  return v;
}

// may_linkat(): safe_hardlink_source() first (regular, not setuid, not
// setgid+group-exec, readable and writable by mode: else inode_permission()
// asks CAP_DAC_OVERRIDE), then inode_owner_or_capable() (CAP_FOWNER for a
// non-owner). Each source shape predicts the one capability the kernel asks.
TEST(Rules, LinkFactsPredictWhatMayLinkatWouldAsk) {
  const std::initializer_list<std::pair<const char*, const char*>> strict = {{"fs.protected_hardlinks", "1"}};
  struct Case {
    const char* what;
    OpValues fact;
    bool fowner, dac;
  };
  const Case cases[] = {
      {"another user's setuid file", link_fact(65534, 65534, 0104755, 0, 0), true, false},
      {"another user's setgid, group-executable file", link_fact(65534, 65534, 0102755, 0, 0), true, false},
      {"another user's fifo", link_fact(65534, 65534, 0010666, 0, 0), true, false},
      {"another user's 0644 file", link_fact(65534, 65534, 0100644, 0, 0), false, true},
      {"another user's setgid file without group-exec", link_fact(65534, 65534, 0102644, 0, 0), false, true},
      {"another user's 0666 file", link_fact(65534, 65534, 0100666, 0, 0), false, false},
      {"0660, caller's fsgid is its group", link_fact(65534, 100, 0100660, 1000, 100), false, false},
      {"0660, one of the caller's groups", link_fact(65534, 100, 0100660, 1000, 1000, 1), false, false},
      {"0660, not in its group", link_fact(65534, 100, 0100660, 1000, 1000, 0), false, true},
      {"0606, in its group: the group bits decide", link_fact(65534, 100, 0100606, 1000, 100), false, true},
      {"the caller's own setuid file", link_fact(1000, 1000, 0104755, 1000, 1000), false, false},
      {"the caller's own 0444 file", link_fact(1000, 1000, 0100444, 1000, 1000), false, false},
  };
  for (const auto& c : cases) {
    for (auto [id, want] : {std::pair{"protected_hardlinks", c.fowner}, std::pair{"protected_hardlinks_dac", c.dac}}) {
      const Eval e = eval_at_exit(id, c.fact, strict);
      EXPECT_EQ(e.applies, want) << id << ": " << c.what;
      if (want) {
        EXPECT_EQ(e.needed, true) << id << ": " << c.what;
        EXPECT_EQ(eval_at_exit(id, c.fact, {{"fs.protected_hardlinks", "0"}}).needed, false) << id;
      }
    }
  }
  // Damaged or partial facts: a link fact without the source's slots (a
  // state list cut short) or a group list too long to read predicts nothing.
  OpValues cut = chk(86, {0x1000, 0x2000});
  cut.kind = OpKind::link;
  state_keys(std::vector<int64_t>(common::kContextStateSlots, common::kStateUnset), cut);
  for (const char* id : {"protected_hardlinks", "protected_hardlinks_dac"})
    EXPECT_EQ(eval_at_exit(id, cut, strict).applies, std::nullopt) << id;
  OpValues many = link_fact(65534, 100, 0100660, 1000, 1000, common::kStateUnset);
  EXPECT_EQ(eval_at_exit("protected_hardlinks_dac", many, strict).applies, std::nullopt);
}

TEST(RuleParser, AtExitBelongsToCheckRules) {
  auto p = parse_rules(
      "[rule a]\noperation = bind\nat_exit = mlock\ncapability = CAP_CHOWN\nneeded = 1\n"
      "[rule b]\ncheck = f\ncapability = CAP_CHOWN\nneeded = 1\nneeded_at_exit = 0\n"
      "[rule c]\ncheck = f\nat_exit = cap_check\ncapability = CAP_CHOWN\nneeded = 1\n"
      "[rule d]\ncheck = f\nat_exit = setpriority\ncapability = CAP_CHOWN\nneeded = 1\napplies_at_exit = nr == 141\n");
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_NE(p.errors[0].message.find("at_exit belongs to a check rule"), std::string::npos) << p.errors[0].message;
  EXPECT_NE(p.errors[1].message.find("without at_exit"), std::string::npos) << p.errors[1].message;
  EXPECT_NE(p.errors[2].message.find("unknown operation"), std::string::npos) << p.errors[2].message;
  EXPECT_EQ(p.set.rules[3].at_exit, OpKind::setpriority);
  EXPECT_TRUE(p.set.rules[3].applies_at_exit);
}

// What the kernel reported with a fact wins over the recorded snapshot, and
// a target profile's own setting wins over both.
TEST(Rules, ValuesAtTheOperationAndTheOverlay) {
  OpValues b = op(OpKind::bind, 2, 80);
  std::vector<int64_t> state(static_cast<size_t>(common::StateSlot::count), common::kStateUnset);
  state[static_cast<size_t>(common::StateSlot::port_start)] = 0;
  state_keys(state, b);
  EXPECT_EQ(eval("bind_port", b, {{"net.ipv4.ip_unprivileged_port_start", "1024"}}).needed, false);
  Profile overlay;
  overlay.set("net.ipv4.ip_unprivileged_port_start", "1024");
  b.overlay = &overlay;
  EXPECT_EQ(eval("bind_port", b, {{"net.ipv4.ip_unprivileged_port_start", "1024"}}).needed, true);
  // RLIM_INFINITY at the check reads as unlimited
  OpValues m = chk(149, {0, 1 << 30});
  m.locked_vm = 0;
  state.assign(state.size(), common::kStateUnset);
  state[static_cast<size_t>(common::StateSlot::memlock_soft)] = -1;
  state_keys(state, m);
  EXPECT_EQ(eval("memlock", m, {{"rlimit.MEMLOCK.soft", "65536"}}).needed, false);
}

TEST(Rules, NarrowerAlternativesAreData) {
  const auto& alts = builtin_rules().alternatives;
  ASSERT_EQ(alts.size(), 4u);
  for (const auto& a : alts) {
    EXPECT_EQ(a.broad, 21) << a.id;  // CAP_SYS_ADMIN
    EXPECT_FALSE(a.why.empty()) << a.id;
  }
  auto p = parse_rules("[alternative x]\nnarrow = CAP_PERFMON\n[alternative y]\nbroad = CAP_NOPE\n");
  EXPECT_EQ(p.errors.size(), 3u);  // x lacks broad; y: unknown capability, lacks both
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
  EXPECT_NE(cat.match_fallback(21, 9, "x86_64"), nullptr);  // SYS_ADMIN in mmap
  EXPECT_NE(cat.match_fallback(21, 222, "aarch64"), nullptr);  // mmap on arm64
  EXPECT_EQ(cat.match_fallback(21, 9, "aarch64"), nullptr);    // 9 is not mmap there
  EXPECT_EQ(frame_function("do_execveat_common.isra.0+422/0x1f0 [kernel]"), "do_execveat_common");
}

}  // namespace
}  // namespace capaudit::analyze
