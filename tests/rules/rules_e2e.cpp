// Every sysctl/rlimit rule on a real recording on this kernel: a small real
// workload (a standard tool, or tests/rules/workload.c) is recorded as root,
// and the analyzer must (1) classify the capability `conditional` with the
// rule, the value the kernel held at the check and the operation, and (2)
// call it `not_needed` under a profile that lifts the gate. Rules this kernel
// cannot produce (Yama, CAP_SYS_RESOURCE outside the bounding set, Debian-only
// knobs) are checked as far as it goes: the fact is recorded with its value.
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "analyze/core/profile.h"
#include "analyze/core/render.h"
#include "common/syscalls.h"
#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

using analyze::Category;
using analyze::CategoryReason;
using analyze::reason_text;
using analyze::RuleHit;

std::string workload() { return CAPAUDIT_RULES_WORKLOAD; }

const analyze::CapFinding* find_cap(const std::vector<analyze::CapFinding>& caps, int cap) {
  for (const auto& c : caps)
    if (c.cap == cap) return &c;
  return nullptr;
}

analyze::Report report_under(const analyze::RunAggregate& run, const std::vector<std::string>& overlay) {
  analyze::ClassifyOptions o;
  for (const auto& kv : overlay) {
    auto err = analyze::parse_sysctl_flag(kv, o.overlay);
    EXPECT_FALSE(err) << kv;
  }
  return analyze::classify({run}, o);
}

// Writes a sysctl for the duration of a test and puts the old value back.
class SysctlGuard {
 public:
  SysctlGuard(std::string path, const std::string& value) : path_(std::move(path)), old_(read_sysctl(path_)) {
    std::ofstream(path_) << value;
  }
  ~SysctlGuard() { std::ofstream(path_) << old_; }

 private:
  std::string path_, old_;
};

struct RuleCase {
  const char* name;
  std::vector<std::string> cmd;  // "@W" = the workload program, "@H" = the recorder tests' helper
  int cap;
  const char* rule;
  const char* recorded;           // a substring of the hit's inputs or operation: the value at the check
  std::vector<std::string> lift;  // --sysctl values under which the rule says not needed
  const char* sysctl = nullptr;   // set this sysctl (path=value) while recording
  void (*prepare)() = nullptr;    // before recording, not recorded
  const char* frame = nullptr;    // the kernel function that decided, when the rule names several
};

// One directory per case: ctest runs the cases in parallel.
void prepare_link_source(const std::string& dir, mode_t mode) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string src = dir + "/src";
  std::ofstream(src) << "x";
  ASSERT_EQ(chown(src.c_str(), 65534, 65534), 0);  // before chmod: chown clears setuid
  ASSERT_EQ(chmod(src.c_str(), mode), 0);
}
// A setuid file of another user: no safe hardlink source, not the caller's.
void prepare_link_setuid() { prepare_link_source("/tmp/capaudit-rules-link-setuid", 04755); }
// Another user's regular file that only CAP_DAC_OVERRIDE lets root write.
void prepare_link_regular() { prepare_link_source("/tmp/capaudit-rules-link-regular", 0644); }

std::ostream& operator<<(std::ostream& os, const RuleCase& c) { return os << c.name; }

std::string hit_text(const analyze::RuleHit& h) {
  std::string s = h.operation;
  for (const auto& i : h.inputs) s += " | " + i;
  return s;
}

class RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleTest, ConditionalOnARealRecordingAndNotNeededWhenTheGateIsLifted) {
  CAPAUDIT_REQUIRE_ROOT();
  const RuleCase& c = GetParam();
  std::vector<std::string> cmd;
  for (const auto& a : c.cmd) cmd.push_back(a == "@W" ? workload() : a == "@H" ? std::string(helper_path()) : a);
  if (c.prepare) c.prepare();
  std::optional<SysctlGuard> guard;
  if (c.sysctl) {
    std::string s = c.sysctl;
    guard.emplace(s.substr(0, s.find('=')), s.substr(s.find('=') + 1));
  }
  auto r = record({}, cmd, c.name);
  guard.reset();
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  auto run = analyze::load_trace(r.path);

  // 1. conditional, with the rule, the recorded value and the operation
  auto rep = report_under(run, {});
  const auto* f = find_cap(rep.caps, c.cap);
  ASSERT_NE(f, nullptr) << c.name << ": no finding for cap " << c.cap;
  EXPECT_EQ(f->category, Category::conditional) << reason_text(*f);
  auto hit = std::find_if(f->rules.begin(), f->rules.end(), [&](const auto& h) { return h.rule == c.rule; });
  ASSERT_NE(hit, f->rules.end()) << reason_text(*f);
  EXPECT_EQ(hit->needed_recorded, std::optional<bool>(true)) << hit_text(*hit);
  EXPECT_TRUE(hit->check_observed);
  EXPECT_NE(hit_text(*hit).find(c.recorded), std::string::npos) << hit_text(*hit);
  EXPECT_FALSE(hit->remedy.empty());
  const auto& rules = analyze::builtin_rules().rules;
  const auto rule = std::find_if(rules.begin(), rules.end(), [&](const auto& x) { return x.id == c.rule; });
  ASSERT_NE(rule, rules.end());
  if (!rule->frames.empty()) {
    EXPECT_NE(std::find(rule->frames.begin(), rule->frames.end(), hit->frame), rule->frames.end());
  }
  if (c.frame) {
    EXPECT_EQ(hit->frame, c.frame);
  }
  EXPECT_TRUE(f->recommended);

  // 2. the same trace under a profile that lifts the gate
  auto lifted = report_under(run, c.lift);
  const auto* g = find_cap(lifted.caps, c.cap);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->category, Category::not_needed) << reason_text(*g);
  EXPECT_FALSE(g->recommended);
  std::filesystem::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(
    ThisKernel, RuleTest,
    ::testing::Values(
        RuleCase{"bind80", {"@H", "bind-tcp4-80"}, CAP_NET_BIND_SERVICE, "bind_port",
                 "net.ipv4.ip_unprivileged_port_start: recorded 1024", {"net.ipv4.ip_unprivileged_port_start=0"}},
        RuleCase{"kallsyms", {"head", "-1", "/proc/kallsyms"}, CAP_SYSLOG, "kallsyms", "kernel.perf_event_paranoid: recorded 2",
                 {"kernel.perf_event_paranoid=1"}, "/proc/sys/kernel/kptr_restrict=0"},
        RuleCase{"dmesg", {"dmesg"}, CAP_SYSLOG, "dmesg_restrict_kmsg", "kernel.dmesg_restrict: recorded 1",
                 {"kernel.dmesg_restrict=0"}, "/proc/sys/kernel/dmesg_restrict=1"},
        RuleCase{"mlock", {"@W", "mlock"}, CAP_IPC_LOCK, "memlock", "rlimit.MEMLOCK.soft: recorded 8388608",
                 {"rlimit.MEMLOCK.soft=unlimited"}},
        RuleCase{"chrt", {"chrt", "-f", "1", "true"}, CAP_SYS_NICE, "rtprio", "priority 1",
                 {"rlimit.RTPRIO.soft=99"}},
        RuleCase{"nice", {"nice", "-n", "-5", "true"}, CAP_SYS_NICE, "nice_limit", "nice -5",
                 {"rlimit.NICE.soft=40"}},
        RuleCase{"perf", {"@W", "perf"}, CAP_PERFMON, "perf_kernel", "kernel.perf_event_paranoid: recorded 2",
                 {"kernel.perf_event_paranoid=1"}},
        RuleCase{"perf_cpu", {"@W", "perf-cpu"}, CAP_PERFMON, "perf_cpu", "kernel.perf_event_paranoid: recorded 2",
                 {"kernel.perf_event_paranoid=0"}, nullptr, nullptr, "find_get_context"},
        RuleCase{"syslog", {"@W", "syslog"}, CAP_SYSLOG, "dmesg_restrict", "kernel.dmesg_restrict: recorded 1",
                 {"kernel.dmesg_restrict=0"}, "/proc/sys/kernel/dmesg_restrict=1"},
        RuleCase{"bpf", {"@W", "bpf"}, CAP_BPF, "unprivileged_bpf", "kernel.unprivileged_bpf_disabled: recorded 2",
                 {"kernel.unprivileged_bpf_disabled=0"}},
        RuleCase{"userfaultfd", {"@W", "userfaultfd"}, CAP_SYS_PTRACE, "userfaultfd",
                 "vm.unprivileged_userfaultfd: recorded 0", {"vm.unprivileged_userfaultfd=1"}},
        RuleCase{"io_uring", {"@W", "io_uring"}, CAP_SYS_ADMIN, "io_uring_disabled", "kernel.io_uring_disabled: recorded 1",
                 {"kernel.io_uring_disabled=0"}, "/proc/sys/kernel/io_uring_disabled=1"},
        RuleCase{"mmap_low", {"@W", "mmap-low"}, CAP_SYS_RAWIO, "mmap_min_addr", "vm.mmap_min_addr: recorded 4096",
                 {"vm.mmap_min_addr=0"}},
        RuleCase{"link_other", {"ln", "/tmp/capaudit-rules-link-setuid/src", "/tmp/capaudit-rules-link-setuid/dst"}, CAP_FOWNER,
                 "protected_hardlinks", "fs.protected_hardlinks: recorded 1", {"fs.protected_hardlinks=0"},
                 "/proc/sys/fs/protected_hardlinks=1", prepare_link_setuid},
        RuleCase{"link_regular", {"ln", "/tmp/capaudit-rules-link-regular/src", "/tmp/capaudit-rules-link-regular/dst"},
                 CAP_DAC_OVERRIDE, "protected_hardlinks_dac", "fs.protected_hardlinks: recorded 1",
                 {"fs.protected_hardlinks=0"}, "/proc/sys/fs/protected_hardlinks=1", prepare_link_regular}),
    [](const auto& info) { return std::string(info.param.name); });

// The third direction: recorded where the gate was open, so the kernel made
// no check, with --facts sys_exit (the operation is taken at its syscall's
// exit). Under the recorded profile nothing is needed; under a stricter one
// the rule predicts the capability: conditional, predicted, with the rule,
// the recorded and the target value and the operation.
struct PredictCase {
  const char* name;
  std::vector<std::string> cmd;  // "@W" = the workload program
  int cap;
  const char* rule;
  common::OpKind kind;              // the exit fact that carries the operation
  std::vector<std::string> open;    // sysctls (path=value) set while recording: the gate open
  std::vector<std::string> strict;  // --sysctl values that close it
  const char* value;                // a substring of the hit: recorded and target value
};

std::ostream& operator<<(std::ostream& os, const PredictCase& c) { return os << c.name; }

class RulePredictTest : public ::testing::TestWithParam<PredictCase> {};

TEST_P(RulePredictTest, RecordedWithTheGateOpenAStricterProfilePredictsIt) {
  CAPAUDIT_REQUIRE_ROOT();
  const PredictCase& c = GetParam();
  std::vector<std::string> cmd;
  for (const auto& a : c.cmd) cmd.push_back(a == "@W" ? workload() : a);
  std::vector<std::unique_ptr<SysctlGuard>> guards;
  for (const auto& kv : c.open)
    guards.push_back(std::make_unique<SysctlGuard>(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1)));
  auto r = record({"--facts", "sys_exit"}, cmd, c.name);
  guards.clear();  // restored before anything can fail
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;

  // The operation is in the trace, and the kernel made no check for it.
  auto fact = std::find_if(r.trace.operations.begin(), r.trace.operations.end(),
                           [&](const auto& o) { return o.kind == c.kind; });
  ASSERT_NE(fact, r.trace.operations.end()) << c.name << ": no " << common::to_string(c.kind) << " fact";
  EXPECT_FALSE(fact->args.empty());
  EXPECT_FALSE(fact->state.empty());
  const auto rules = analyze::builtin_rules().rules;
  const auto rule = std::find_if(rules.begin(), rules.end(), [&](const auto& x) { return x.id == c.rule; });
  ASSERT_NE(rule, rules.end());
  for (const auto& o : r.trace.operations)
    if (o.kind == common::OpKind::cap_check && o.cap == c.cap && o.syscall_nr == fact->syscall_nr) {
      auto st = std::find_if(r.trace.stacks.begin(), r.trace.stacks.end(), [&](const auto& s) { return s.id == o.stack_id; });
      ASSERT_NE(st, r.trace.stacks.end());
      for (const auto& f : st->frames)
        for (const auto& fn : rule->frames)
          EXPECT_NE(f.rfind(fn + "+", 0), 0u) << c.name << ": the gate was not open, " << f;
    }

  // Under the recorded profile: not needed.
  auto run = analyze::load_trace(r.path);
  const auto rec = report_under(run, {});
  const auto* f = find_cap(rec.caps, c.cap);
  EXPECT_TRUE(f == nullptr || !f->recommended) << reason_text(*f);

  // Under the stricter one: predicted.
  const auto strict = report_under(run, c.strict);
  const auto* g = find_cap(strict.caps, c.cap);
  ASSERT_NE(g, nullptr) << c.name;
  EXPECT_EQ(g->category, Category::conditional) << reason_text(*g);
  EXPECT_TRUE(g->predicted) << reason_text(*g);
  EXPECT_EQ(g->reason.kind, CategoryReason::Kind::rule_predicted) << reason_text(*g);
  EXPECT_TRUE(g->recommended);
  auto hit = std::find_if(g->rules.begin(), g->rules.end(), [&](const auto& h) { return h.rule == c.rule; });
  ASSERT_NE(hit, g->rules.end()) << reason_text(*g);
  EXPECT_EQ(hit->needed_recorded, std::optional<bool>(false)) << hit_text(*hit);
  EXPECT_EQ(hit->needed_target, std::optional<bool>(true)) << hit_text(*hit);
  EXPECT_FALSE(hit->check_observed);
  EXPECT_NE(hit_text(*hit).find(c.value), std::string::npos) << hit_text(*hit);
  EXPECT_FALSE(hit->remedy.empty());
  EXPECT_NE(reason_text(*g).find("predicted by rule " + std::string(c.rule)), std::string::npos) << reason_text(*g);
  std::filesystem::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(
    ThisKernel, RulePredictTest,
    ::testing::Values(
        PredictCase{"syslog", {"@W", "syslog"}, CAP_SYSLOG, "dmesg_restrict", common::OpKind::syslog,
                    {"/proc/sys/kernel/dmesg_restrict=0"}, {"kernel.dmesg_restrict=1"},
                    "kernel.dmesg_restrict: recorded 0, target 1"},
        PredictCase{"dmesg", {"dmesg"}, CAP_SYSLOG, "dmesg_restrict_kmsg", common::OpKind::open_sensitive,
                    {"/proc/sys/kernel/dmesg_restrict=0"}, {"kernel.dmesg_restrict=1"},
                    "kernel.dmesg_restrict: recorded 0, target 1"},
        PredictCase{"kallsyms", {"head", "-1", "/proc/kallsyms"}, CAP_SYSLOG, "kallsyms", common::OpKind::open_sensitive,
                    {"/proc/sys/kernel/kptr_restrict=0", "/proc/sys/kernel/perf_event_paranoid=1"},
                    {"kernel.perf_event_paranoid=2"}, "kernel.perf_event_paranoid: recorded 1, target 2"},
        PredictCase{"mlock", {"@W", "mlock-fits"}, CAP_IPC_LOCK, "memlock", common::OpKind::mlock, {},
                    {"rlimit.MEMLOCK.soft=1048576"}, "rlimit.MEMLOCK.soft: recorded 8388608, target 1048576"},
        PredictCase{"nofile", {"@W", "nofile-4096"}, CAP_SYS_RESOURCE, "raise_hard_limit", common::OpKind::setrlimit, {},
                    {"rlimit.NOFILE.hard=1024"}, "rlimit.NOFILE.hard: recorded 4096, target 1024"},
        PredictCase{"nofile_setrlimit", {"@W", "nofile-4096-setrlimit"}, CAP_SYS_RESOURCE, "raise_hard_limit_setrlimit",
                    common::OpKind::setrlimit, {}, {"rlimit.NOFILE.hard=1024"},
                    "rlimit.NOFILE.hard: recorded 4096, target 1024"},
        PredictCase{"perf", {"@W", "perf"}, CAP_PERFMON, "perf_kernel", common::OpKind::perf_event_open,
                    {"/proc/sys/kernel/perf_event_paranoid=1"}, {"kernel.perf_event_paranoid=2"},
                    "kernel.perf_event_paranoid: recorded 1, target 2"},
        PredictCase{"perf_cpu", {"@W", "perf-cpu"}, CAP_PERFMON, "perf_cpu", common::OpKind::perf_event_open,
                    {"/proc/sys/kernel/perf_event_paranoid=0"}, {"kernel.perf_event_paranoid=1"},
                    "kernel.perf_event_paranoid: recorded 0, target 1"},
        PredictCase{"bpf", {"@W", "bpf"}, CAP_BPF, "unprivileged_bpf", common::OpKind::bpf,
                    {"/proc/sys/kernel/unprivileged_bpf_disabled=0"}, {"kernel.unprivileged_bpf_disabled=2"},
                    "kernel.unprivileged_bpf_disabled: recorded 0, target 2"},
        PredictCase{"io_uring", {"@W", "io_uring"}, CAP_SYS_ADMIN, "io_uring_disabled", common::OpKind::io_uring_setup,
                    {"/proc/sys/kernel/io_uring_disabled=0"}, {"kernel.io_uring_disabled=1"},
                    "kernel.io_uring_disabled: recorded 0, target 1"},
        PredictCase{"mmap_low", {"@W", "mmap-low"}, CAP_SYS_RAWIO, "mmap_min_addr", common::OpKind::mmap_low,
                    {"/proc/sys/vm/mmap_min_addr=0"}, {"vm.mmap_min_addr=4096"},
                    "vm.mmap_min_addr: recorded 0, target 4096"},
        PredictCase{"pipe", {"@W", "pipe"}, CAP_SYS_RESOURCE, "pipe_max_size", common::OpKind::set_pipe_size,
                    {"/proc/sys/fs/pipe-max-size=8388608"}, {"fs.pipe-max-size=1048576"},
                    "fs.pipe-max-size: recorded 8388608, target 1048576"}),
    [](const auto& info) { return std::string(info.param.name); });

// A default recording (no --facts sys_exit) takes none of these facts: the
// syscall-exit tracepoint, which costs the whole host, stays off for them.
TEST(RulePredict, ADefaultRecordingTakesNoSyscallExitFacts) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {workload(), "mlock-fits"}, "no-exit-facts");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  for (const auto& o : r.trace.operations)
    EXPECT_TRUE(o.kind == common::OpKind::cap_check || o.kind == common::OpKind::bind ||
                o.kind == common::OpKind::socket)
        << common::to_string(o.kind);
  auto rep = report_under(analyze::load_trace(r.path), {"rlimit.MEMLOCK.soft=1048576"});
  const auto* f = find_cap(rep.caps, CAP_IPC_LOCK);
  EXPECT_TRUE(f == nullptr || !f->recommended);  // nothing to predict from
  std::filesystem::remove(r.path);
}

// The exit facts of rules this kernel cannot gate (no Yama, no Debian userns
// knob, RLIMIT_NICE hard 0) are recorded here all the same; the guests prove
// their predictions (tests/kernels/rules, "predicted"). And a nice value
// going up is no prediction: can_nice() runs only for a lower one.
TEST(RulePredict, ExitFactsOfRulesThisKernelCannotGateAreRecorded) {
  CAPAUDIT_REQUIRE_ROOT();
  auto fact_of = [](const Trace& t, common::OpKind k) -> const common::OperationFact* {
    for (const auto& o : t.operations)
      if (o.kind == k) return &o;
    return nullptr;
  };
  {
    auto r = record({"--facts", "sys_exit"}, {workload(), "ptrace-sibling"}, "exit-ptrace");
    ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
    const auto* f = fact_of(r.trace, common::OpKind::ptrace_attach);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->a1, 0x4206);  // PTRACE_SEIZE
    EXPECT_GT(f->a0, 0);       // the target pid
    EXPECT_EQ(f->ret, std::optional<int64_t>(0));
    std::filesystem::remove(r.path);
  }
  {
    auto r = record({"--facts", "sys_exit"}, {workload(), "userns"}, "exit-userns");
    ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
    const auto* f = fact_of(r.trace, common::OpKind::unshare_userns);
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->args.size(), 6u);
    EXPECT_NE(f->args[0] & 0x10000000, 0);  // CLONE_NEWUSER
    std::filesystem::remove(r.path);
  }
  {
    auto r = record({"--facts", "sys_exit"}, {"nice", "-n", "5", "true"}, "exit-nice");
    ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
    const auto* f = fact_of(r.trace, common::OpKind::setpriority);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(static_cast<int32_t>(f->args.at(2)), 5);
    EXPECT_TRUE(f->state_at(common::StateSlot::nice_soft));
    auto rep = report_under(analyze::load_trace(r.path), {"rlimit.NICE.soft=0"});
    const auto* c = find_cap(rep.caps, CAP_SYS_NICE);
    EXPECT_TRUE(c == nullptr || !c->recommended) << reason_text(*c);
    std::filesystem::remove(r.path);
  }
}

// CAP_SYS_RESOURCE is outside this machine's bounding set: the kernel denies
// the check, so the capability is denied_only here (a denied check is never
// recommended) and the rule's own proof is left to the qemu guests. What this
// kernel can show: the check's context is recorded with the deciding value
// and the rule evaluates it.
TEST(RuleDenied, SysResourceRulesRecordTheirValueEvenWhereTheCheckIsDenied) {
  CAPAUDIT_REQUIRE_ROOT();
  if (has_effective_cap(CAP_SYS_RESOURCE)) GTEST_SKIP() << "CAP_SYS_RESOURCE is granted here: RuleTest covers it";
  struct Case {
    const char* op;
    const char* rule;
    const char* value;
  };
  for (const Case& c : {Case{"pipe", "pipe_max_size", "F_SETPIPE_SZ to 4194304 bytes"},
                        Case{"raise-hard", "raise_hard_limit", "rlimit.NOFILE.hard: recorded"}}) {
    auto r = record({}, {workload(), c.op}, c.op);
    ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message;
    auto rep = report_under(analyze::load_trace(r.path), {});
    const auto* f = find_cap(rep.caps, CAP_SYS_RESOURCE);
    ASSERT_NE(f, nullptr) << c.op;
    EXPECT_EQ(f->category, Category::denied_only) << reason_text(*f);
    auto hit = std::find_if(f->rules.begin(), f->rules.end(), [&](const auto& h) { return h.rule == c.rule; });
    ASSERT_NE(hit, f->rules.end()) << c.op;
    EXPECT_EQ(hit->needed_recorded, std::optional<bool>(true)) << hit_text(*hit);
    EXPECT_NE(hit_text(*hit).find(c.value), std::string::npos) << hit_text(*hit);
    std::filesystem::remove(r.path);
  }
}

// Two operations of one syscall in one process, each behind its own rule:
// openat of /proc/kallsyms (kallsyms_show_value) and of /dev/kmsg
// (devkmsg_open), both CAP_SYSLOG, from the shell itself. Recorded with the
// default budget (4 stacks per (capability, syscall, verdict)): the /dev/kmsg
// check is the sixth of its key, and before format 1.7 it had no call path,
// was taken for a repeat of the kallsyms opens, and lifting the kallsyms gate
// called CAP_SYSLOG not_needed. Past the budget a check on a path new to its
// key takes a stack (docs/analysis.md, "Call-path sampling"), so each open is
// judged by its own rule.
TEST(RulePaths, TwoOperationsOfOneSyscallInOneProcessAreJudgedByTheirOwnRules) {
  CAPAUDIT_REQUIRE_ROOT();
  SysctlGuard kptr("/proc/sys/kernel/kptr_restrict", "0");
  SysctlGuard dmesg("/proc/sys/kernel/dmesg_restrict", "1");
  auto r = record({}, {"sh", "-c", "for i in 1 2 3 4 5; do : < /proc/kallsyms; done; : < /dev/kmsg"}, "two-paths");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  EXPECT_EQ(r.trace.header.stacks_per_key, 4u);
  EXPECT_EQ(r.trace.header.paths_per_key, 8u);
  EXPECT_EQ(r.trace.trailer.losses.paths_full, 0u);
  // The kmsg open has its own call path; the fifth kallsyms open, the same
  // path as the four before it, has none.
  std::map<std::string, int> stacked;  // decisive frame -> CAP_SYSLOG checks in openat with that path
  int unstacked = 0;
  const auto openat = common::syscall_number("openat", r.trace.header.arch);
  for (const auto& c : r.trace.checks) {
    if (c.cap != CAP_SYSLOG || c.syscall_nr != openat) continue;
    if (!c.stack_id) {
      ++unstacked;
      continue;
    }
    auto st = std::find_if(r.trace.stacks.begin(), r.trace.stacks.end(), [&](const auto& s) { return s.id == c.stack_id; });
    ASSERT_NE(st, r.trace.stacks.end());
    std::string frames;
    for (const auto& f : st->frames) frames += f + " ";
    if (frames.find("devkmsg_open") != std::string::npos) ++stacked["devkmsg_open"];
    else if (frames.find("kallsyms_show_value") != std::string::npos) ++stacked["kallsyms_show_value"];
    else ADD_FAILURE() << "unexpected path " << frames;
  }
  EXPECT_EQ(stacked["devkmsg_open"], 1);
  EXPECT_EQ(stacked["kallsyms_show_value"], 4);
  EXPECT_EQ(unstacked, 1);
  auto run = analyze::load_trace(r.path);
  auto rep = report_under(run, {});
  const auto* f = find_cap(rep.caps, CAP_SYSLOG);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::conditional) << reason_text(*f);
  std::set<std::string> rules;
  for (const auto& h : f->rules) rules.insert(h.rule);
  EXPECT_EQ(rules, (std::set<std::string>{"kallsyms", "dmesg_restrict_kmsg"})) << reason_text(*f);

  // Each report outlives the findings read from it.
  const auto paranoid1 = report_under(run, {"kernel.perf_event_paranoid=1"});
  const auto* g = find_cap(paranoid1.caps, CAP_SYSLOG);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->category, Category::conditional) << reason_text(*g);  // /dev/kmsg still needs it
  EXPECT_EQ(g->reason.kind, CategoryReason::Kind::rule_needed) << reason_text(*g);
  EXPECT_TRUE(std::any_of(g->rules.begin(), g->rules.end(), [](const RuleHit& r) {
    return r.rule == "dmesg_restrict_kmsg" && r.needed_target != false;
  })) << reason_text(*g);
  const auto lifted = report_under(run, {"kernel.perf_event_paranoid=1", "kernel.dmesg_restrict=0"});
  const auto* h = find_cap(lifted.caps, CAP_SYSLOG);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->category, Category::not_needed) << reason_text(*h);
  std::filesystem::remove(r.path);
}

// Narrower alternatives on a real recording: without CAP_PERFMON (dropped
// from the bounding set) perfmon_capable() falls back to CAP_SYS_ADMIN and
// perf_event_open succeeds. The report recommends CAP_PERFMON and says why
// CAP_SYS_ADMIN is not needed; likewise CAP_BPF for bpf().
TEST(RuleAlternatives, NarrowDeniedAndSysAdminGrantedRecommendsTheNarrowOne) {
  CAPAUDIT_REQUIRE_ROOT();
  struct Case {
    const char* drop;
    const char* op;
    int narrow;
  };
  for (const Case& c : {Case{"-perfmon", "perf", CAP_PERFMON}, Case{"-bpf", "bpf", CAP_BPF}}) {
    auto r = record({}, {"setpriv", "--bounding-set", c.drop, "--", workload(), c.op}, c.op);
    ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message;
    ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
    auto rep = report_under(analyze::load_trace(r.path), {});
    const analyze::ExecutableFindings* w = nullptr;
    for (const auto& e : rep.executables)
      if (e.path == workload()) w = &e;
    ASSERT_NE(w, nullptr);
    const auto* narrow = find_cap(w->caps, c.narrow);
    ASSERT_NE(narrow, nullptr) << c.op;
    EXPECT_TRUE(narrow->recommended) << reason_text(*narrow);
    EXPECT_EQ(narrow->reason.kind, CategoryReason::Kind::narrower_instead) << reason_text(*narrow);
    EXPECT_EQ(narrow->granted, 0u);  // every check of it was denied
    const auto* admin = find_cap(w->caps, CAP_SYS_ADMIN);
    ASSERT_NE(admin, nullptr);
    EXPECT_EQ(admin->category, Category::not_needed) << reason_text(*admin);
    EXPECT_EQ(admin->reason.kind, CategoryReason::Kind::fallback_only) << reason_text(*admin);
    std::filesystem::remove(r.path);
  }
}

const common::OperationFact* bind_fact(const Trace& t, int64_t port) {
  for (const auto& o : t.operations)
    if (o.kind == common::OpKind::bind && o.a1 == port) return &o;
  return nullptr;
}

// `unshare -n` with the port start lowered inside: the bind is judged by the
// namespace it ran in (no check happened there), not by the host's 1024; a
// stricter profile still predicts the capability.
TEST(RuleNamespaces, BindInANetnsThatLoweredThePortStartIsJudgedByThatNetns) {
  CAPAUDIT_REQUIRE_ROOT();
  ASSERT_EQ(read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start"), "1024") << "the host must keep the default";
  auto r = record({}, {"unshare", "-n", "sh", "-c",
                       "echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec " + std::string(helper_path()) +
                           " bind-tcp4-80"},
                  "netns");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  const auto* f = bind_fact(r.trace, 80);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->state_at(common::StateSlot::port_start), std::optional<int64_t>(0));
  EXPECT_TRUE(r.trace.checks_of(CAP_NET_BIND_SERVICE).empty());  // the kernel made none

  auto run = analyze::load_trace(r.path);
  auto rep = report_under(run, {});
  const auto* c = find_cap(rep.caps, CAP_NET_BIND_SERVICE);
  EXPECT_TRUE(c == nullptr || !c->recommended) << (c ? reason_text(*c) : "");
  auto strict = report_under(run, {"net.ipv4.ip_unprivileged_port_start=1024"});
  c = find_cap(strict.caps, CAP_NET_BIND_SERVICE);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->category, Category::conditional);
  EXPECT_TRUE(c->predicted);
  std::filesystem::remove(r.path);
}

// ping_group on a real recording: a program as nobody (CAP_NET_RAW ambient)
// opens an ICMP datagram socket, which ping_group_range "1 0" refuses with
// EACCES (no capability check), then falls back to a raw socket. With
// sys_exit facts the refused socket is in the trace: CAP_NET_RAW is
// conditional on ping_group, and not needed where the range holds its gid.
TEST(RulePing, ARawSocketAfterARefusedPingSocketIsConditionalOnPingGroup) {
  CAPAUDIT_REQUIRE_ROOT();
  SysctlGuard range("/proc/sys/net/ipv4/ping_group_range", "1 0");
  const std::string py =
      "import socket\n"
      "try:\n"
      "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print('dgram')\n"
      "except PermissionError:\n"
      "    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print('raw')\n";
  auto r = record({"--facts", "sys_exit"},
                  {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps", "+net_raw",
                   "--ambient-caps", "+net_raw", "/usr/bin/python3", "-c", py},
                  "ping-group");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  EXPECT_NE(r.run.out.find("raw"), std::string::npos) << r.run.out;
  ASSERT_FALSE(r.trace.checks_of(CAP_NET_RAW).empty());

  auto rep = report_under(analyze::load_trace(r.path), {});
  const auto* f = find_cap(rep.caps, CAP_NET_RAW);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, analyze::Category::conditional);
  ASSERT_FALSE(f->rules.empty());
  EXPECT_EQ(f->rules.front().rule, "ping_group");
  EXPECT_NE(hit_text(f->rules.front()).find("recorded 1 0"), std::string::npos) << hit_text(f->rules.front());
  EXPECT_NE(hit_text(f->rules.front()).find("gid 65534"), std::string::npos) << hit_text(f->rules.front());

  const auto wide = report_under(analyze::load_trace(r.path), {"net.ipv4.ping_group_range=0 2147483647"});
  const auto* g = find_cap(wide.caps, CAP_NET_RAW);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->category, analyze::Category::not_needed);
  EXPECT_FALSE(g->recommended);
  std::filesystem::remove(r.path);
}

// A command that enters a user namespace (and a network namespace it owns):
// its bind to port 80 is checked against that namespace, where it is root;
// the capability is reported per namespace and grants nothing on the host.
TEST(RuleNamespaces, ACommandInItsOwnUserNamespaceNeedsNothingOnTheHost) {
  CAPAUDIT_REQUIRE_ROOT();
  auto r = record({}, {"unshare", "-U", "-r", "-n", helper_path(), "bind-tcp4-80"}, "userns");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  const auto checks = r.trace.checks_of(CAP_NET_BIND_SERVICE);
  ASSERT_FALSE(checks.empty());
  EXPECT_NE(checks.front().target_userns_inum, r.trace.header.init_userns_inum);
  const auto* f = bind_fact(r.trace, 80);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->state_at(common::StateSlot::port_start), std::optional<int64_t>(1024));  // the new netns's default

  auto rep = report_under(analyze::load_trace(r.path), {});
  const auto* host = find_cap(rep.caps, CAP_NET_BIND_SERVICE);
  EXPECT_TRUE(host == nullptr || !host->recommended);
  bool in_ns = false;
  for (const auto& ns : rep.namespaces) in_ns |= find_cap(ns.caps, CAP_NET_BIND_SERVICE) != nullptr;
  EXPECT_TRUE(in_ns);
  std::filesystem::remove(r.path);
}

// perf_debian_restrict on a real recording of this host (format 1.9): the
// recorder snapshots the kernel's build configuration, and a perf_event_open
// recorded at paranoid 2 predicts CAP_SYS_ADMIN under paranoid 3 only for a
// target kernel with Debian's patch. This host's kernel lacks the patch
// (/proc/config.gz without CONFIG_SECURITY_PERF_EVENTS_RESTRICT): paranoid 3
// there is paranoid 2, so nothing is predicted; a target whose config is
// unknown gets no prediction and a note saying why; one stated to carry the
// patch gets the prediction. The guests prove the patched recording
// (tests/kernels/rules, perf_debian_predicted).
TEST(RulePredict, PerfDebianRestrictPredictsFromTheTargetKernelsConfig) {
  CAPAUDIT_REQUIRE_ROOT();
  SysctlGuard paranoid("/proc/sys/kernel/perf_event_paranoid", "2");
  auto r = record({"--facts", "sys_exit"}, {workload(), "perf-user"}, "perf-debian");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  ASSERT_EQ(r.trace.trailer.target_exit_status, std::optional<int32_t>(0)) << r.run.out << r.run.err;
  const auto& h = r.trace.header;
  const bool config_read = !h.kernel_config_source.empty();
  if (config_read) {
    ASSERT_EQ(h.kernel_config.size(), 1u);
    EXPECT_EQ(h.kernel_config[0].key, "CONFIG_SECURITY_PERF_EVENTS_RESTRICT");
  } else {
    EXPECT_FALSE(h.kernel_config_missing.empty());
  }
  const bool patched = config_read && h.kernel_config[0].value != "absent";
  if (std::filesystem::exists("/proc/config.gz")) {
    EXPECT_EQ(h.kernel_config_source, "/proc/config.gz");
    EXPECT_FALSE(patched) << "this host's kernel is not a Debian one";
  }
  auto run = analyze::load_trace(r.path);
  const std::string key = "kernel.config.SECURITY_PERF_EVENTS_RESTRICT";
  auto admin_predicted = [](const analyze::Report& rep) {
    const auto* f = find_cap(rep.caps, CAP_SYS_ADMIN);
    return f && f->recommended && f->predicted;
  };
  auto not_predicted = [](const analyze::Report& rep) -> const analyze::Note* {
    for (const auto& n : rep.notes)
      if (n.kind == analyze::NoteKind::not_predicted && n.ids == std::vector<std::string>{"perf_debian_restrict"}) return &n;
    return nullptr;
  };

  // As recorded: nothing.
  EXPECT_FALSE(admin_predicted(report_under(run, {})));
  // Paranoid 3 on this very kernel: its config decides.
  const auto same_kernel = report_under(run, {"kernel.perf_event_paranoid=3"});
  EXPECT_EQ(admin_predicted(same_kernel), patched);
  EXPECT_EQ(not_predicted(same_kernel) != nullptr, !config_read);

  // A target whose kernel nobody knows: refused, with the reason.
  const auto unknown = report_under(run, {"kernel.perf_event_paranoid=3", key + "=unknown"});
  EXPECT_FALSE(admin_predicted(unknown));
  const auto* n = not_predicted(unknown);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->cap, CAP_SYS_ADMIN);
  EXPECT_NE(analyze::note_text(*n).find("perf_event_paranoid=3 patch is unknown"), std::string::npos)
      << analyze::note_text(*n);

  // Stated: a Debian target predicts it, with the value it read.
  const auto debian = report_under(run, {"kernel.perf_event_paranoid=3", key + "=y"});
  ASSERT_TRUE(admin_predicted(debian));
  const auto* g = find_cap(debian.caps, CAP_SYS_ADMIN);
  EXPECT_EQ(g->reason.kind, analyze::CategoryReason::Kind::rule_predicted);
  EXPECT_NE(reason_text(*g).find("predicted by rule perf_debian_restrict"), std::string::npos) << reason_text(*g);
  EXPECT_NE(reason_text(*g).find("kernel.perf_event_paranoid: recorded 2, target 3"), std::string::npos) << reason_text(*g);
  EXPECT_FALSE(not_predicted(debian));
  // ... and a vanilla one does not.
  EXPECT_FALSE(admin_predicted(report_under(run, {"kernel.perf_event_paranoid=3", key + "=absent"})));
  std::filesystem::remove(r.path);
}

}  // namespace
}  // namespace capaudit::test
