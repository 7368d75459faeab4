// The verdict's facts from plain Report values (synthetic: the claims about
// real runs are in tests/front/test_front.cpp, FrontVerdict).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "analyze/core/verdict.h"

namespace capaudit::analyze::test {
namespace {

int32_t exited(int code) { return code << 8; }

Report one_run(std::optional<int32_t> status, uint64_t processes = 1) {
  Report r;
  RunInfo ri;
  ri.id = "run1";
  ri.exit_status = status;
  ri.processes = processes;
  ri.stop_reason = status ? "target exited" : "SIGINT";
  r.runs.push_back(ri);
  return r;
}

CapFinding denied(int cap, const char* name, uint64_t failed, uint64_t anyway) {
  CapFinding f;
  f.cap = cap;
  f.name = name;
  f.category = Category::denied_only;
  f.denied = failed + anyway;
  f.denial = DenialAssessment{};
  f.denial->failed = failed;
  f.denial->succeeded_anyway = anyway;
  f.syscalls.push_back({49, "bind", 0, failed + anyway});
  return f;
}

TEST(Verdict, AWorkingRunGrantsTheRecommendedSetWithPurposes) {
  Report r = one_run(exited(0));
  r.recommended = cap_bit(0);
  ExecutableFindings e;
  e.path = "/usr/bin/chown";
  e.recommended = cap_bit(0);
  CapFinding f;
  f.cap = 0;
  f.name = "CAP_CHOWN";
  f.recommended = true;
  f.syscalls.push_back({260, "fchownat", 1, 0});
  e.caps.push_back(f);
  r.executables.push_back(e);
  const Verdict v = make_verdict(r);
  EXPECT_FALSE(v.run_failed);
  EXPECT_TRUE(v.problems.empty());
  ASSERT_EQ(v.executables.size(), 1u);
  EXPECT_EQ(v.executables[0].caps[0].purpose, "change file owners");
  EXPECT_EQ(v.executables[0].caps[0].syscalls, std::vector<std::string>{"fchownat"});
  const std::string text = render_verdict_text(v);
  EXPECT_EQ(text.rfind("Verdict: grant CAP_CHOWN\n", 0), 0u) << text;
  EXPECT_EQ(verdict_warning(v), "");
}

TEST(Verdict, HowTheCommandEndedDecides) {
  EXPECT_FALSE(make_verdict(one_run(exited(0))).run_failed);
  EXPECT_FALSE(make_verdict(one_run(std::nullopt)).run_failed);  // -p/--cgroup: no command of ours
  Verdict v = make_verdict(one_run(exited(1)));
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0].kind, RunProblemKind::exited_nonzero);
  EXPECT_TRUE(v.run_failed);
  v = make_verdict(one_run(SIGKILL));
  EXPECT_EQ(v.problems[0].kind, RunProblemKind::killed);
  EXPECT_EQ(v.problems[0].wait_status, SIGKILL);
  EXPECT_NE(verdict_warning(v).find("signal 9"), std::string::npos);
  v = make_verdict(one_run(exited(127), 0));
  EXPECT_EQ(v.problems[0].kind, RunProblemKind::not_started);
  EXPECT_NE(render_verdict_text(v).find("THE RUN FAILED"), std::string::npos);
  EXPECT_NE(verdict_warning(v).find("did not start"), std::string::npos);
}

TEST(Verdict, OnlyADenialWhoseSyscallFailedBreaksTheRun) {
  Report r = one_run(exited(0));
  r.caps.push_back(denied(10, "CAP_NET_BIND_SERVICE", 0, 2));
  Verdict v = make_verdict(r);
  EXPECT_FALSE(v.run_failed);
  EXPECT_EQ(v.denials_succeeded_anyway, 2u);
  r.caps.push_back(denied(13, "CAP_NET_RAW", 1, 0));
  v = make_verdict(r);
  EXPECT_TRUE(v.run_failed);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0].kind, RunProblemKind::denied_failure);
  EXPECT_EQ(v.problems[0].cap, 13);
  EXPECT_EQ(v.problems[0].syscalls, std::vector<std::string>{"bind"});
  EXPECT_EQ(v.problems[0].failed, 1u);
  EXPECT_EQ(run_problem_text(v.problems[0]), "CAP_NET_RAW denied: bind failed (EPERM/EACCES)");
  // Advisory noise that was denied says nothing about the run.
  Report noise = one_run(exited(0));
  noise.caps.push_back(denied(21, "CAP_SYS_ADMIN", 3, 0));
  noise.caps.back().category = Category::advisory;
  EXPECT_FALSE(make_verdict(noise).run_failed);
}

TEST(Verdict, AnIncompleteRecordingIsALowerBoundNotAFailure) {
  Report r = one_run(exited(0));
  r.complete = false;
  r.runs[0].incomplete = true;
  r.runs[0].incomplete_reasons = {"12 events dropped (ring buffer full)"};
  const Verdict v = make_verdict(r);
  EXPECT_FALSE(v.run_failed);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0].kind, RunProblemKind::incomplete);
  EXPECT_EQ(v.problems[0].incomplete_reasons, r.runs[0].incomplete_reasons);
  const std::string text = render_verdict_text(v);
  EXPECT_EQ(text.rfind("Verdict: INCOMPLETE RECORDING - no capability seen", 0), 0u) << text;
  EXPECT_NE(verdict_warning(v).find("12 events dropped"), std::string::npos);
}

}  // namespace
}  // namespace capaudit::analyze::test
