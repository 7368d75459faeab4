// The verify judge (analyze/core/verify.h) on hand-made facts: synthetic,
// it tests the engine; the claims are proven on real recordings in
// tests/front/test_verify.cpp.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "analyze/core/verify.h"

namespace capaudit::analyze {
namespace {

ProcessAgg process(uint32_t pid, const std::string& exe) {
  ProcessAgg p;
  p.pid = pid;
  p.exe = exe;
  p.from_exec = true;
  return p;
}

CheckAgg check(int cap, int32_t nr, bool granted, uint64_t count = 1) {
  CheckAgg c;
  c.cap = static_cast<int16_t>(cap);
  c.syscall_nr = nr;
  c.granted = granted;
  c.count = count;
  return c;
}

// One syscall NR that failed after a denied check.
OutcomeAgg failed_once(int32_t nr) {
  OutcomeAgg o;
  o.syscall_nr = nr;
  o.counts.failed = 1;
  return o;
}

RunAggregate run_with(std::vector<ProcessAgg> procs, std::optional<int32_t> exit_status = 0) {
  RunAggregate r;
  r.path = "t.cap";
  r.read.status = common::ReadStatus::complete;
  r.processes = std::move(procs);
  common::Trailer t;
  t.target_exit_status = exit_status;
  r.trailer = t;
  return r;
}

TEST(VerifyJudge, FactsKeepTheProgramsOwnOperationsAndNameTheErrnoOfAFailedDenial) {
  auto prog = process(10, "/usr/bin/app");
  prog.checks.push_back(check(CAP_NET_BIND_SERVICE, SYS_bind, true));
  prog.checks.push_back(check(CAP_NET_RAW, SYS_socket, false));
  auto foreign = check(CAP_DAC_OVERRIDE, SYS_chown, true);
  foreign.cred = common::CheckedCred::foreign;  // the overlay mounter's: not the program's
  prog.checks.push_back(foreign);
  OutcomeAgg out = failed_once(SYS_socket);
  out.errors = {-1};  // EPERM
  prog.outcomes.push_back(out);
  auto runtime = process(11, "/usr/sbin/runc");
  runtime.runtime = true;
  runtime.checks.push_back(check(CAP_SYS_ADMIN, SYS_mount, true));
  const RunFacts f = run_facts(run_with({prog, runtime}), {});
  ASSERT_EQ(f.operations.size(), 1u);
  EXPECT_EQ(f.operations[0].cap, CAP_NET_BIND_SERVICE);
  EXPECT_EQ(f.operations[0].syscall, "bind");
  ASSERT_EQ(f.failures.size(), 1u);
  EXPECT_EQ(f.failures[0].cap, CAP_NET_RAW);
  EXPECT_EQ(f.failures[0].syscall, "socket");
  ASSERT_EQ(f.failures[0].errors.size(), 1u);
  EXPECT_EQ(errno_text(f.failures[0].errors[0]), "EPERM");
}

// A program the trace does not name is a fact (no path); the words say so.
TEST(VerifyJudge, AnUnnamedProgramHasNoPathAndTheTextSaysSo) {
  auto named = process(10, "/usr/bin/app");
  named.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  auto unnamed = process(11, "");
  unnamed.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  unnamed.checks.push_back(check(CAP_NET_RAW, SYS_socket, false));
  unnamed.outcomes.push_back(failed_once(SYS_socket));
  const RunFacts original = run_facts(run_with({unnamed, named}), {});
  ASSERT_EQ(original.operations.size(), 1u);
  EXPECT_EQ(original.operations[0].executable, "");
  ASSERT_EQ(original.failures.size(), 1u);
  EXPECT_EQ(original.failures[0].executable, "");
  VerifyResult r;
  r.originals = {original};
  r.operations = operations_to_cover({original}, cap_bit(CAP_CHOWN));
  r.rerun = judge_run("the set", cap_bit(CAP_CHOWN), run_facts(run_with({}), {}), {original}, r.operations);
  EXPECT_NE(render_verify_text(r).find("(program not named by the trace) did it in the original run"), std::string::npos)
      << render_verify_text(r);
}

TEST(VerifyJudge, PassesOnlyWithoutFailuresWithTheSameExitAndEveryOperation) {
  auto prog = process(10, "/usr/bin/app");
  prog.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  prog.checks.push_back(check(CAP_NET_RAW, SYS_socket, true));
  const RunFacts original = run_facts(run_with({prog}), {});
  const CapMask set = cap_bit(CAP_CHOWN) | cap_bit(CAP_NET_RAW);
  const auto ops = operations_to_cover({original}, set);
  ASSERT_EQ(ops.size(), 2u);

  EXPECT_FALSE(judge_run("same", set, original, {original}, ops).broke());

  // Exit status 1, the raw socket never opened, a denial whose syscall failed.
  auto worse = process(10, "/usr/bin/app");
  worse.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  worse.checks.push_back(check(CAP_NET_RAW, SYS_socket, false));
  worse.outcomes.push_back(failed_once(SYS_socket));
  const auto j = judge_run("worse", set, run_facts(run_with({worse}, 1 << 8), {}), {original}, ops);
  std::vector<VerifyProblemKind> kinds;
  for (const auto& p : j.problems) kinds.push_back(p.kind);
  EXPECT_EQ(kinds, (std::vector<VerifyProblemKind>{VerifyProblemKind::denied_failure, VerifyProblemKind::exit_status,
                                                   VerifyProblemKind::operation_missing}));

  // A denial whose syscall succeeded anyway is harmless.
  auto harmless = process(10, "/usr/bin/app");
  harmless.checks = prog.checks;
  harmless.checks.push_back(check(CAP_SETPCAP, SYS_capset, false));
  OutcomeAgg ok;
  ok.syscall_nr = SYS_capset;
  ok.counts.succeeded_anyway = 1;
  harmless.outcomes.push_back(ok);
  const auto h = judge_run("harmless", set, run_facts(run_with({harmless}), {}), {original}, ops);
  EXPECT_FALSE(h.broke());
  EXPECT_EQ(h.facts.denials.at(CAP_SETPCAP).succeeded_anyway, 1u);
}

TEST(VerifyJudge, AProgramWithMoreThanTheSetTestsNothing) {
  auto prog = process(10, "/usr/bin/app");
  prog.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  common::CapSets sets;
  sets.permitted = cap_bit(CAP_CHOWN) | cap_bit(CAP_SYS_ADMIN);
  prog.caps = sets;
  const RunFacts f = run_facts(run_with({prog}), {});
  const auto j = judge_run("wide", cap_bit(CAP_CHOWN), f, {f}, operations_to_cover({f}, cap_bit(CAP_CHOWN)));
  ASSERT_EQ(j.problems.size(), 1u);
  EXPECT_EQ(j.problems[0].kind, VerifyProblemKind::more_than_granted);
  EXPECT_EQ(j.problems[0].extra, cap_bit(CAP_SYS_ADMIN));
}

TEST(VerifyJudge, MinimizeNeverDropsACapabilityItCouldNotShowNeeded) {
  auto prog = process(10, "/usr/bin/app");
  prog.checks.push_back(check(CAP_CHOWN, SYS_chown, true));
  const RunFacts f = run_facts(run_with({prog}), {});
  VerifyResult r;
  r.granted = r.recommended = cap_bit(CAP_CHOWN) | cap_bit(CAP_SYS_TIME);
  r.account = "root";
  r.operations = operations_to_cover({f}, r.granted);
  r.rerun = judge_run("set", r.granted, f, {f}, r.operations);
  CapEvidence e;
  e.cap = CAP_SYS_TIME;
  e.name = "CAP_SYS_TIME";
  e.without = judge_run("without", cap_bit(CAP_CHOWN), f, {f}, operations_to_cover({f}, cap_bit(CAP_CHOWN)));
  r.minimize.push_back(e);
  EXPECT_FALSE(r.passed());
  const std::string text = render_verify_text(r);
  EXPECT_NE(text.find("CAP_SYS_TIME            NOT SHOWN TO BE NEEDED"), std::string::npos) << text;
  EXPECT_NE(text.find("it was not even checked"), std::string::npos) << text;
}

}  // namespace
}  // namespace capaudit::analyze
