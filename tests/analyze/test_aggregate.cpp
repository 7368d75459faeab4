#include <gtest/gtest.h>

#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

TEST(Aggregate, MemoryDoesNotGrowWithEvents) {
  TraceBuilder s = synth();
  s.exec(10, 1'000'000'000, "/bin/loop");
  for (int i = 0; i < 20000; ++i) s.check(10, 1'000'000'100 + i, kCapSysAdmin, i % 2 == 0, kMmap, 0);
  s.batch = 4096;
  auto run = aggregate(s);
  ASSERT_EQ(run.processes.size(), 1u);
  EXPECT_EQ(run.processes[0].checks.size(), 2u);  // granted and denied shapes
  uint64_t total = 0;
  for (const auto& c : run.processes[0].checks) total += c.count;
  EXPECT_EQ(total, 20000u);
  EXPECT_EQ(run.events, 20001u);
}

// A verify verdict names the errno of a lost operation: the aggregate keeps
// each denied syscall's distinct failed return values, per image, bounded.
TEST(Aggregate, ADeniedSyscallKeepsItsDistinctErrnos) {
  TraceBuilder s = synth();
  s.exec(10, 1'000'000'000, "/usr/bin/tool");
  const int64_t rets[] = {-1, -13, -1, 0, -95, -22, -5, -2};
  for (size_t i = 0; i < std::size(rets); ++i) {
    s.check(10, 1'000'000'100 + 10 * i, kCapSysAdmin, false, kMount);
    s.outcome(10, 1'000'000'105 + 10 * i, kMount, rets[i]);
  }
  s.exec(10, 1'000'001'000, "/usr/bin/other");
  s.check(10, 1'000'001'100, kCapSysAdmin, false, kMount);
  s.outcome(10, 1'000'001'105, kMount, -16);
  auto run = aggregate(s);
  ASSERT_EQ(run.processes.size(), 2u);
  ASSERT_EQ(run.processes[0].outcomes.size(), 1u);
  EXPECT_EQ(run.processes[0].outcomes[0].errors, (std::vector<int64_t>{-1, -13, -95, -22}));  // kMaxOutcomeErrors
  EXPECT_EQ(run.processes[0].outcomes[0].counts.succeeded_anyway, 1u);
  ASSERT_EQ(run.processes[1].outcomes.size(), 1u);
  EXPECT_EQ(run.processes[1].outcomes[0].errors, std::vector<int64_t>{-16});  // the next image's own
}

// The snapshot, an exec and a fork make one record the same way: gid is the
// real gid, as uid is the real uid (a set-group-ID exec once gave the egid).
TEST(Aggregate, AnImageKeepsTheRealGidHoweverItBegan) {
  TraceBuilder s = synth();
  common::ProcessInfo pi;
  pi.pid = 5;
  pi.exe = "/usr/sbin/daemon";
  pi.argv = {pi.exe};
  pi.uid = pi.euid = 1000;
  pi.gid = 100;
  pi.egid = 50;
  s.processes.push_back(pi);
  s.exec(10, 1'000'000'000, "/usr/bin/sg-tool", 1000);
  s.execs.back().gid = 100;  // a set-group-ID binary: egid 50
  s.execs.back().egid = 50;
  s.fork(10, 11, 1'000'001'000);
  s.check(11, 1'000'002'000, kCapChown, true, kChown);
  auto run = aggregate(s);
  ASSERT_EQ(run.processes.size(), 3u);
  for (const auto& p : run.processes) {
    EXPECT_EQ(p.gid, 100u) << p.pid;
    ASSERT_TRUE(p.cred_ids) << p.pid;
    EXPECT_EQ(p.cred_ids->egid, 50u) << p.pid;
  }
}

// A program that re-execs itself through /proc/self/exe (or /proc/PID/exe)
// runs the image it had: an older recorder wrote the name it was given, which
// no config may name (samples/real-helper, found in its expected.json).
TEST(Aggregate, AReExecThroughProcSelfExeKeepsTheImagesPath) {
  TraceBuilder s = synth();
  s.exec(10, 1'000'000'000, "/usr/bin/helper");
  s.fork(10, 11, 1'000'001'000);
  s.exec(11, 1'000'002'000, "/proc/self/exe");
  s.check(11, 1'000'003'000, kCapChown, true, kChown);
  s.exec(10, 1'000'004'000, "/proc/10/exe");
  s.exec(12, 1'000'005'000, "/proc/self/exe");  // nothing known before it: kept as written
  auto run = aggregate(s);
  std::vector<std::string> exes;
  for (const auto& p : run.processes)
    if (p.from_exec) exes.push_back(std::to_string(p.pid) + " " + p.exe);
  EXPECT_EQ(exes, (std::vector<std::string>{"10 /usr/bin/helper", "11 /usr/bin/helper", "10 /usr/bin/helper",
                                            "12 /proc/self/exe"}));
}

// A runc init the snapshot found is a runtime init like an exec'd one: the
// program its fork execs is the container's, not a runtime helper.
TEST(Aggregate, ASnapshotRuncInitExecsTheContainersProgram) {
  TraceBuilder s = synth();
  common::ProcessInfo pi;
  pi.pid = 5;
  pi.exe = "/usr/bin/runc";
  pi.argv = {"runc", "init"};
  s.processes.push_back(pi);
  s.fork(5, 6, 1'000'000'000);
  s.exec(6, 1'000'001'000, "/app/server");
  s.check(6, 1'000'002'000, kCapChown, true, kChown);
  auto run = aggregate(s);
  const ProcessAgg* app = nullptr;
  for (const auto& p : run.processes)
    if (p.exe == "/app/server") app = &p;
  ASSERT_TRUE(app);
  EXPECT_FALSE(app->runtime);
}

TEST(Aggregate, ChecksBeforeALaterExecInTheSameBatchStayWithTheOldImage) {
  // With large batches the exec arrives in the same batch as checks on both
  // sides of it; attribution must follow time, not delivery order.
  TraceBuilder s = synth();
  s.batch = 100;
  s.fork(1, 20, 1'000'000'000);
  s.check(20, 1'000'000'100, kCapChown, true, kChown);
  s.exec(20, 1'000'001'000, "/bin/child");
  s.check(20, 1'000'002'000, kCapFowner, true, kLink);
  auto run = aggregate(s);
  ASSERT_EQ(run.processes.size(), 2u);
  const ProcessAgg* forked = nullptr;
  const ProcessAgg* execd = nullptr;
  for (const auto& p : run.processes) (p.exe == "/bin/child" ? execd : forked) = &p;
  ASSERT_TRUE(forked && execd);
  ASSERT_EQ(forked->checks.size(), 1u);
  EXPECT_EQ(forked->checks[0].cap, kCapChown);
  ASSERT_EQ(execd->checks.size(), 1u);
  EXPECT_EQ(execd->checks[0].cap, kCapFowner);
}

TEST(Aggregate, AForkAfterAnExecInTheSameBatchRunsTheExecdImage) {
  // nginx: the master execs, forks a worker that drops to nobody; all in one
  // batch, where the reader delivers the fork before the exec.
  TraceBuilder s = synth();
  s.batch = 100;
  s.exec(50, 1'000'000'000, "/usr/sbin/nginx");
  s.fork(50, 51, 1'000'100'000);
  s.check(51, 1'000'200'000, kCapChown, true, kChown);
  s.fork(51, 52, 1'000'300'000);  // a grandchild inherits it too
  s.check(52, 1'000'400'000, kCapSetuid, true, kChown);
  auto run = aggregate(s);
  for (const auto& p : run.processes) {
    EXPECT_EQ(p.exe, "/usr/sbin/nginx") << "pid " << p.pid;
    EXPECT_TRUE(p.ids_known) << "pid " << p.pid;
    EXPECT_TRUE(p.sets_known) << "pid " << p.pid;
  }
  EXPECT_EQ(run.processes.size(), 3u);
}

TEST(Aggregate, ExecChecksBelongToTheProgramBeingLoaded) {
  // sh forks, the child execs ping: the checks inside that execve come before
  // the exec event but are about loading ping.
  TraceBuilder s = synth();
  s.exec(40, 1'000'000'000, "/bin/sh");
  s.fork(40, 41, 1'000'100'000);
  s.check(41, 1'000'200'000, kCapSysAdmin, true, kExecve);
  s.check(41, 1'000'200'100, kCapChown, true, kChown);  // the shell child, before exec
  s.exec(41, 1'000'300'000, "/usr/bin/ping");
  s.check(41, 1'000'400'000, kCapNetRaw, true, kSocket);
  auto run = aggregate(s);
  for (const auto& p : run.processes) {
    if (p.pid != 41) continue;
    std::vector<int> caps;
    for (const auto& c : p.checks) caps.push_back(c.cap);
    std::sort(caps.begin(), caps.end());
    if (p.exe == "/usr/bin/ping") EXPECT_EQ(caps, (std::vector<int>{kCapNetRaw, kCapSysAdmin}));
    else EXPECT_EQ(caps, std::vector<int>{kCapChown}) << p.exe;
  }
}

TEST(Aggregate, CapsetDropDetectionAndForkInheritance) {
  TraceBuilder s = synth();
  s.exec(30, 1'000'000'000, "/bin/server");
  s.capset(30, 1'000'000'500, cap_bit(kCapChown) | cap_bit(kCapFowner), kAllCaps);  // lowers effective
  s.capset(30, 1'000'000'900, cap_bit(kCapChown), cap_bit(kCapChown));
  s.fork(30, 31, 1'000'001'000);
  auto run = aggregate(s);
  const ProcessAgg* parent = nullptr;
  const ProcessAgg* child = nullptr;
  for (const auto& p : run.processes) (p.pid == 30 ? parent : child) = &p;
  ASSERT_TRUE(parent && child);
  EXPECT_EQ(parent->first_drop_ns, 1'000'000'500u);
  EXPECT_EQ(parent->capset_requested, kAllCaps);
  EXPECT_EQ(child->first_drop_ns, 1'000'000'500u);
  EXPECT_EQ(child->exe, "/bin/server");
  EXPECT_EQ(child->cur_permitted, cap_bit(kCapChown));
}

TEST(Aggregate, DescendantsFromTheForkTree) {
  TraceBuilder s = synth();
  s.fork(1, 2, 10);
  s.fork(2, 3, 20);
  s.fork(1, 4, 30);
  auto run = aggregate(s);
  EXPECT_EQ(run.is_descendant(3, 1), true);
  EXPECT_EQ(run.is_descendant(3, 2), true);
  EXPECT_EQ(run.is_descendant(4, 2), false);
  EXPECT_EQ(run.is_descendant(99, 1), std::nullopt);
}

TEST(Aggregate, OutcomesAreTalliedPerSyscall) {
  DenialAssessment a;
  for (int64_t r : {-1, -13, 0, 5, -4, -512, -22, -22}) tally_outcome(a, r);
  EXPECT_EQ(a.failed, 2u);
  EXPECT_EQ(a.succeeded_anyway, 2u);
  EXPECT_EQ(a.interrupted, 2u);
  EXPECT_EQ(a.other_error, 2u);
  EXPECT_EQ(a.errors_seen, std::vector<int64_t>{-22});
  EXPECT_EQ(a.summary(), DenialOutcome::failed);
}

}  // namespace
}  // namespace capaudit::analyze::test
