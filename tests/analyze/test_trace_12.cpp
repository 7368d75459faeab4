// What trace format 1.2 tells the analyzer: credential changes (drops by
// setuid() as well as capset()), the window in which denied-syscall outcomes
// were tracked, and where bind/socket facts came from.
#include <gtest/gtest.h>

#include "analyze/core/rules.h"
#include "report_json.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

using common::OpKind;

// Whether the report has a note of KIND naming exactly RUNS.
bool has_note(const Report& r, NoteKind kind, const std::vector<std::string>& runs = {}) {
  const Note* n = note(r, kind);
  return n && n->ids == runs;
}

std::vector<std::string> capset_only(const Json& rep) {
  std::vector<std::string> out;
  for (const auto& c : rep["caps"])
    if (c["category"] == "capset_only") out.push_back(c["name"]);
  return out;
}

const ProcessAgg& image(const RunAggregate& run, const std::string& exe) {
  for (const auto& p : run.processes)
    if (p.exe == exe) return p;
  throw std::runtime_error("no image " + exe);
}

// Denied checks of an image whose outcome was not tracked, and all denied checks.
std::pair<uint64_t, uint64_t> untracked_of(const ProcessAgg& p) {
  uint64_t untracked = 0, denied = 0;
  for (const auto& c : p.checks) {
    if (c.granted) continue;
    denied += c.count;
    if (c.outcome_untracked) untracked += c.count;
  }
  return {untracked, denied};
}

constexpr uint64_t kT0 = 2'000'000'000;
const uint64_t kNetBind = cap_bit(kCapNetBindService);

// ---- credential changes ----

TEST(CredChange, SetuidAwayFromRootAfterABindMakesTheBindCapStartupOnly) {
  TraceBuilder s = synth();
  s.exec(100, kT0, "/usr/sbin/httpd");
  s.op(100, kT0 + 1000, OpKind::bind, kBind, 2, 80, 1, 0);
  s.check(100, kT0 + 1100, kCapNetBindService, true, kBind);
  s.cred_change(100, kT0 + 5000, 0, 0, 33, 33);  // setuid(33): every set cleared
  const Report typed = classified({aggregate(s)});
  Json rep = Json::parse(render_json(typed));
  const Json* bind = cap(rep["caps"], "CAP_NET_BIND_SERVICE");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ((*bind)["category"], "conditional");
  EXPECT_EQ((*bind)["startup_only"], true);
  EXPECT_EQ(rep["startup_only"], Json::array({"CAP_NET_BIND_SERVICE"}));
  EXPECT_TRUE(capset_only(rep).empty());  // setuid() kept nothing by choice
  EXPECT_EQ(rep["runs"][0]["cred_changes"], true);
  EXPECT_FALSE(note(typed, NoteKind::startup_from_capset));

  // The same program in an old trace: no event for the setuid(), so no drop.
  TraceBuilder old = s;
  old.capsets.clear();
  const Report old_rep = classified({aggregate(old)});
  EXPECT_FALSE(finding(old_rep.caps, kCapNetBindService)->startup_only);
  EXPECT_TRUE(has_note(old_rep, NoteKind::startup_from_capset));

  // A recorder that says it reports every credential change, with none in the
  // trace: nothing happened, and the report must not claim setuid() is unseen.
  TraceBuilder quiet = old;
  quiet.header.cred_changes = true;
  const Report quiet_rep = classified({aggregate(quiet)});
  EXPECT_FALSE(note(quiet_rep, NoteKind::startup_from_capset));
  EXPECT_FALSE(note(quiet_rep, NoteKind::startup_from_capset_in));
  EXPECT_FALSE(finding(quiet_rep.caps, kCapNetBindService)->startup_only);
}

TEST(CredChange, ACapsetDropKeepingAnUnusedCapIsCapsetOnly) {
  TraceBuilder s = synth();
  s.exec(200, kT0, "/usr/sbin/ntpd");
  s.check(200, kT0 + 1000, 25 /*SYS_TIME*/, true, 305);
  const uint64_t keep = cap_bit(25) | kNetBind;
  s.cred_change(200, kT0 + 2000, keep, keep, 0, 0);  // capset() as root: ids unchanged
  s.check(200, kT0 + 3000, 25, true, 305);
  const Report typed = classified({aggregate(s)});
  Json rep = Json::parse(render_json(typed));
  EXPECT_EQ(capset_only(rep), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(finding(typed.caps, kCapNetBindService)->reason.kind, CategoryReason::Kind::capset_kept);
  EXPECT_FALSE(recommended(rep, "CAP_NET_BIND_SERVICE"));
  const Json* time = cap(rep["caps"], "CAP_SYS_TIME");
  EXPECT_EQ((*time)["category"], "required");
  EXPECT_EQ((*time)["startup_only"], false);  // used after the drop too
}

// cap_capset() checks CAP_SETPCAP on every capset(); it only decides a raise
// of the inheritable set beyond inheritable and permitted (seen in the matrix:
// capset-drop got SETPCAP recommended).
TEST(CredChange, CapsetsSetpcapCheckIsAdvisoryUnlessInheritableWasRaised) {
  constexpr int kSetpcap = 8, kNrCapset = 126;
  TraceBuilder drop = synth();
  drop.exec(300, kT0, "/usr/bin/dropper");
  drop.check(300, kT0 + 1000, kSetpcap, true, kNrCapset);
  drop.cred_change(300, kT0 + 2000, 0, 0, 0, 0);
  Json rep = report_of({aggregate(drop)});
  const Json* sp = cap(rep["caps"], "CAP_SETPCAP");
  ASSERT_NE(sp, nullptr);
  EXPECT_EQ((*sp)["category"], "advisory");
  EXPECT_FALSE(recommended(rep, "CAP_SETPCAP"));

  TraceBuilder raise = synth();
  raise.exec(301, kT0, "/usr/bin/raiser", 0, kNetBind);  // permitted: NET_BIND_SERVICE only
  raise.check(301, kT0 + 1000, kSetpcap, true, kNrCapset);
  raise.cred_change(301, kT0 + 2000, kNetBind, kNetBind, 0, 0);
  raise.capsets.back().inheritable = kNetBind | cap_bit(13);  // NET_RAW: not in permitted before
  Json rep2 = report_of({aggregate(raise)});
  const Json* sp2 = cap(rep2["caps"], "CAP_SETPCAP");
  ASSERT_NE(sp2, nullptr);
  EXPECT_EQ((*sp2)["category"], "required");
  EXPECT_TRUE(recommended(rep2, "CAP_SETPCAP"));
}

// On an arm64 trace capset is 91 and 126 another syscall: the numbers are
// the trace's architecture's, and so are the syscalls' names in the report.
TEST(CredChange, CapsetIsKnownByTheTracesArchitecture) {
  constexpr int kSetpcap = 8;
  TraceBuilder drop = synth();
  drop.header.arch = "aarch64";
  drop.exec(300, kT0, "/usr/bin/dropper");
  drop.check(300, kT0 + 1000, kSetpcap, true, 91);
  drop.cred_change(300, kT0 + 2000, 0, 0, 0, 0);
  Json rep = report_of({aggregate(drop)});
  const Json* sp = cap(rep["caps"], "CAP_SETPCAP");
  ASSERT_NE(sp, nullptr);
  EXPECT_EQ((*sp)["category"], "advisory");
  ASSERT_EQ((*sp)["syscalls"].size(), 1u);
  EXPECT_EQ((*sp)["syscalls"][0]["name"], "capset");

  TraceBuilder other = drop;  // x86_64's capset number on arm64 is no capset
  other.checks.back().syscall_nr = 126;
  Json rep2 = report_of({aggregate(other)});
  const Json* sp2 = cap(rep2["caps"], "CAP_SETPCAP");
  ASSERT_NE(sp2, nullptr);
  EXPECT_EQ((*sp2)["category"], "required");
  EXPECT_NE((*sp2)["syscalls"][0]["name"], "capset");
}

TEST(CredChange, SeteuidAwayAndBackIsADropSoALaterCheckIsNotStartupOnly) {
  TraceBuilder s = synth();
  s.exec(300, kT0, "/usr/sbin/daemon");
  s.check(300, kT0 + 1000, kCapChown, true, kChown);
  s.cred_change(300, kT0 + 2000, 0, kAllCaps, 0, 1000);  // seteuid(1000): effective cleared
  s.cred_change(300, kT0 + 3000, kAllCaps, kAllCaps, 0, 0);  // seteuid(0): raised back
  s.check(300, kT0 + 4000, kCapChown, true, kChown);
  auto run = aggregate(s);
  EXPECT_EQ(image(run, "/usr/sbin/daemon").first_drop_ns, kT0 + 2000);
  Json rep = report_of({run});
  EXPECT_EQ((*cap(rep["caps"], "CAP_CHOWN"))["startup_only"], false);
  EXPECT_TRUE(rep["startup_only"].empty());
  EXPECT_TRUE(capset_only(rep).empty());  // the id change chose nothing; the raise kept nothing
}

TEST(CredChange, RaisesAndIdOnlyChangesNeverMakeAnythingCapsetOnly) {
  TraceBuilder s = synth();
  // A non-root program with a permitted but not effective NET_RAW raises it.
  s.exec(400, kT0, "/usr/bin/pinger", 1000, 0);
  s.execs.back().caps.permitted = cap_bit(kCapNetRaw);
  s.cred_change(400, kT0 + 1000, cap_bit(kCapNetRaw), cap_bit(kCapNetRaw), 1000, 1000);
  s.cred_change(400, kT0 + 2000, cap_bit(kCapNetRaw), cap_bit(kCapNetRaw), 1000, 1001);  // setegid-like, sets unchanged
  auto run = aggregate(s);
  const auto& p = image(run, "/usr/bin/pinger");
  EXPECT_EQ(p.first_drop_ns, UINT64_MAX);
  EXPECT_EQ(p.capset_requested, 0u);
  Json rep = report_of({run});
  EXPECT_TRUE(capset_only(rep).empty());
  EXPECT_TRUE(rep["caps"].empty());
}

TEST(CredChange, WithNothingKnownBeforeAChangeIsNotAssumedToBeADrop) {
  // A process the trace never introduced (no exec, no snapshot).
  TraceBuilder s = synth();
  s.cred_change(500, kT0, kNetBind, kNetBind, 0, 0);
  s.check(500, kT0 + 100, kCapNetBindService, true, kBind);
  auto run = aggregate(s);
  ASSERT_EQ(run.processes.size(), 1u);
  EXPECT_EQ(run.processes[0].first_drop_ns, UINT64_MAX);
  EXPECT_EQ(run.processes[0].capset_requested, 0u);
  // An old capset() event in the same place is taken as the drop.
  TraceBuilder old = synth();
  old.capset(500, kT0, kNetBind, kNetBind);
  auto old_run = aggregate(old);
  EXPECT_EQ(old_run.processes[0].first_drop_ns, kT0);
  EXPECT_EQ(old_run.processes[0].capset_requested, kNetBind);
}

TEST(CredChange, SetuidKeepingCapsThenCapsetKeepsOnlyWhatCapsetChose) {
  // prctl(PR_SET_KEEPCAPS), setuid(1000) (permitted kept, effective cleared),
  // then capset() down to NET_BIND_SERVICE.
  TraceBuilder s = synth();
  s.exec(600, kT0, "/usr/sbin/server");
  s.cred_change(600, kT0 + 1000, 0, kAllCaps, 1000, 1000);
  s.cred_change(600, kT0 + 2000, kNetBind, kNetBind, 1000, 1000);
  s.fork(600, 601, kT0 + 3000);
  auto run = aggregate(s);
  const auto& p = image(run, "/usr/sbin/server");
  EXPECT_EQ(p.first_drop_ns, kT0 + 1000);
  EXPECT_EQ(p.capset_requested, kNetBind);
  for (const auto& q : run.processes)
    if (q.pid == 601) {
      EXPECT_EQ(q.first_drop_ns, kT0 + 1000);  // fork copies the credentials and the drop
      EXPECT_EQ(q.cred_ids->euid, 1000u);
    }
}

// ---- outcome tracking windows ----

// One process of uid 1000 without capabilities, making one check AFTER ns past its exec.
TraceBuilder one_check(uint32_t pid, const std::string& exe, uint64_t after, int cap, bool granted, int32_t nr) {
  TraceBuilder s = synth();
  s.exec(pid, kT0, exe, 1000, 0);
  s.check(pid, kT0 + after, cap, granted, nr);
  return s;
}

TraceBuilder denied_mount(common::OutcomeTracking mode) {
  TraceBuilder s = one_check(700, "/usr/bin/tool", 1000, kCapSysAdmin, false, kMount);
  s.header.outcome_tracking = mode;
  return s;
}

TEST(OutcomeWindow, TrackingOffIsNotTrackedRatherThanNoOutcome) {
  const Report typed = classified({aggregate(denied_mount(common::OutcomeTracking::off))});
  Json rep = Json::parse(render_json(typed));
  const Json& d = (*cap(rep["caps"], "CAP_SYS_ADMIN"))["denial"];
  EXPECT_EQ(d["assessment"], "not_tracked");
  EXPECT_EQ(d["not_tracked"], 1);
  EXPECT_EQ(d["no_outcome"], 0);
  EXPECT_EQ(rep["runs"][0]["outcome_tracking"], "off");
  EXPECT_TRUE(has_note(typed, NoteKind::outcomes_off, {"run1"}));
  // Recorded from the start, the same trace means "the recorder saw no exit".
  const Report from_start = classified({aggregate(denied_mount(common::OutcomeTracking::from_start))});
  EXPECT_EQ(finding(from_start.caps, kCapSysAdmin)->denial->summary(), DenialOutcome::no_outcome);
  for (NoteKind k : {NoteKind::outcomes_off, NoteKind::outcomes_from_first_denial, NoteKind::outcomes_in_windows})
    EXPECT_FALSE(note(from_start, k));
}

TEST(OutcomeWindow, FromFirstDenialSplitsChecksAtTheWindowStart) {
  TraceBuilder s = denied_mount(common::OutcomeTracking::from_first_denial);  // mount denied at +1000: before
  s.trailer->outcomes_from_ns = kT0 + 1500;
  s.check(700, kT0 + 2000, kCapSysAdmin, false, kMount);  // inside the window, failed
  s.outcome(700, kT0 + 2100, kMount, -1);
  s.check(700, kT0 + 3000, kCapNetRaw, false, kSocket);  // inside the window, exit never seen
  s.check(700, kT0 + 500, kCapFowner, false, kLink);     // before the window only
  const Report typed = classified({aggregate(s)});
  Json rep = Json::parse(render_json(typed));
  const Json& admin = (*cap(rep["caps"], "CAP_SYS_ADMIN"))["denial"];
  EXPECT_EQ(admin["assessment"], "failed");
  EXPECT_EQ(admin["failed"], 1);
  EXPECT_EQ(admin["not_tracked"], 1);
  const Json& raw = (*cap(rep["caps"], "CAP_NET_RAW"))["denial"];
  EXPECT_EQ(raw["assessment"], "no_outcome");
  EXPECT_EQ(raw["not_tracked"], 0);
  EXPECT_EQ((*cap(rep["caps"], "CAP_FOWNER"))["denial"]["assessment"], "not_tracked");
  // Relative to the recording start (the header clock reading, 1 s in TraceBuilder).
  EXPECT_EQ(rep["runs"][0]["outcomes_from_ns"], kT0 + 1500 - s.header.clock_boottime_ns);
  EXPECT_TRUE(has_note(typed, NoteKind::outcomes_from_first_denial, {"run1"}));
}

TEST(OutcomeWindow, NeverStartedMeansNothingWasTracked) {
  TraceBuilder s = denied_mount(common::OutcomeTracking::from_first_denial);
  s.trailer->outcomes_from_ns = 0;
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rep["caps"], "CAP_SYS_ADMIN"))["denial"]["assessment"], "not_tracked");
}

TEST(OutcomeWindow, ADeniedLoopAcrossTheStartIsSplitExactly) {
  TraceBuilder s = synth();
  s.header.outcome_tracking = common::OutcomeTracking::from_first_denial;
  s.exec(800, kT0, "/usr/bin/looper", 1000, 0);
  for (int i = 0; i < 60; ++i) s.check(800, kT0 + 100 + i, kCapSysAdmin, false, kMount);
  s.trailer->outcomes_from_ns = kT0 + 200;
  for (int i = 0; i < 10; ++i) {
    s.check(800, kT0 + 300 + 10 * i, kCapSysAdmin, false, kMount);
    s.outcome(800, kT0 + 301 + 10 * i, kMount, -1);
  }
  auto run = aggregate(s);
  // One shape, split at the window start.
  ASSERT_EQ(image(run, "/usr/bin/looper").checks.size(), 2u);
  EXPECT_EQ(untracked_of(image(run, "/usr/bin/looper")), std::make_pair(uint64_t{60}, uint64_t{70}));
  const Json d = (*cap(report_of({run})["caps"], "CAP_SYS_ADMIN"))["denial"];
  EXPECT_EQ(d["not_tracked"], 60);
  EXPECT_EQ(d["failed"], 10);
  EXPECT_EQ(d["assessment"], "failed");
}

TEST(OutcomeWindow, BeyondTheKeptTimesALoopThatMayStartBeforeTheWindowIsNotTracked) {
  TraceBuilder s = synth();
  s.header.outcome_tracking = common::OutcomeTracking::from_first_denial;
  s.batch = 1000;
  s.exec(810, kT0, "/usr/bin/looper", 1000, 0);
  for (int i = 0; i < 100; ++i) s.check(810, kT0 + 100 + i, kCapSysAdmin, false, kMount);
  s.trailer->outcomes_from_ns = kT0 + 500;
  auto run = aggregate(s);
  EXPECT_EQ(untracked_of(image(run, "/usr/bin/looper")), std::make_pair(uint64_t{100}, uint64_t{100}));
}

TEST(OutcomeWindow, WithoutATrailerOnlyARecordedOutcomeProvesTracking) {
  TraceBuilder s = denied_mount(common::OutcomeTracking::from_first_denial);
  s.check(700, kT0 + 2000, kCapSysAdmin, false, kMount);
  s.outcome(700, kT0 + 2100, kMount, -1);
  s.check(700, kT0 + 3000, kCapSysAdmin, false, kMount);
  s.outcome(700, kT0 + 3100, kMount, -1);
  s.trailer.reset();  // a killed recorder's file: the reader finds it truncated
  auto run = aggregate(s);
  // The checks at +1000 and +2000 came before the first outcome (+2100).
  EXPECT_EQ(untracked_of(image(run, "/usr/bin/tool")), std::make_pair(uint64_t{2}, uint64_t{3}));
}

// Format 1.6: tracked only inside the recorded windows; a window whose close
// was never written runs to the trailer's end.
TEST(OutcomeWindow, InWindowsOnlyDenialsInsideAWindowAreTracked) {
  TraceBuilder s = synth();
  s.header.outcome_tracking = common::OutcomeTracking::in_windows;
  s.header.outcome_window_ns = 1000;
  s.exec(900, kT0, "/usr/bin/tool", 1000, 0);
  common::OutcomeWindow first{kT0 + 1500, 0, kT0 + 1000, 900, 900, kCapSysAdmin, kMount};
  common::OutcomeWindow closed = first;
  closed.end_ns = kT0 + 2500;
  closed.closed_by = common::WindowEnd::quiet;
  common::OutcomeWindow second{kT0 + 5000, 0, kT0 + 4900, 900, 900, kCapNetRaw, kSocket};
  s.windows = {first, closed, second};
  s.check(900, kT0 + 1000, kCapSysAdmin, false, kMount);  // opened the first window: not tracked
  s.check(900, kT0 + 2000, kCapSysAdmin, false, kMount);  // inside it, failed
  s.outcome(900, kT0 + 2100, kMount, -1);
  s.check(900, kT0 + 3000, kCapSysAdmin, false, kMount);  // after its close: not tracked
  s.check(900, kT0 + 4900, kCapNetRaw, false, kSocket);   // opened the second
  s.check(900, kT0 + 6000, kCapNetRaw, false, kSocket);   // inside the open one, exit never seen
  s.trailer->end_time_ns = kT0 + 8000;
  Json rep = report_of({aggregate(s)});
  const Json& admin = (*cap(rep["caps"], "CAP_SYS_ADMIN"))["denial"];
  EXPECT_EQ(admin["failed"], 1);
  EXPECT_EQ(admin["not_tracked"], 2);
  const Json& raw = (*cap(rep["caps"], "CAP_NET_RAW"))["denial"];
  EXPECT_EQ(raw["no_outcome"], 1);
  EXPECT_EQ(raw["not_tracked"], 1);
  const Json& run = rep["runs"][0];
  EXPECT_EQ(run["outcome_tracking"], "in_windows");
  EXPECT_EQ(run["outcome_windows"], 2);
  EXPECT_EQ(run["outcome_windows_ns"], 1000 + 3000);
  EXPECT_EQ(run["outcomes_from_ns"], kT0 + 1500 - s.header.clock_boottime_ns);
  EXPECT_TRUE(has_note(classified({aggregate(s)}), NoteKind::outcomes_in_windows, {"run1"}));
}

TEST(OutcomeWindow, NotTrackedRanksBelowEveryObservedOutcome) {
  DenialAssessment a;
  a.not_tracked = 3;
  EXPECT_EQ(a.summary(), DenialOutcome::not_tracked);
  a.no_outcome = 1;
  EXPECT_EQ(a.summary(), DenialOutcome::no_outcome);
  a.other_error = 1;
  EXPECT_EQ(a.summary(), DenialOutcome::other_error);
  EXPECT_EQ(a.total(), 5u);
}

// ---- one syscall, several denied checks ----

TEST(DeniedOutcomes, TwoCapsDeniedInOneSyscallShareItsSingleOutcome) {
  TraceBuilder s = synth();
  s.exec(900, kT0, "/usr/bin/tool", 1000, 0);
  s.check(900, kT0 + 1000, kCapSysAdmin, false, kMount);
  s.check(900, kT0 + 1001, kCapChown, false, kMount);
  s.outcome(900, kT0 + 1100, kMount, -1);
  Json rep = report_of({aggregate(s)});
  for (const char* name : {"CAP_SYS_ADMIN", "CAP_CHOWN"}) {
    const Json& d = (*cap(rep["caps"], name))["denial"];
    EXPECT_EQ(d["assessment"], "failed") << name;
    EXPECT_EQ(d["failed"], 1) << name;
  }
}

TEST(DeniedOutcomes, OneCapDeniedOnTwoCallPathsCountsTheOutcomeOnce) {
  TraceBuilder s = synth();
  s.exec(910, kT0, "/usr/bin/tool", 1000, 0);
  s.stack(1, {"cap_capable+0x1", "path_mount+0x10"});
  s.stack(2, {"cap_capable+0x1", "do_new_mount+0x20"});
  s.check(910, kT0 + 1000, kCapSysAdmin, false, kMount, 1);
  s.check(910, kT0 + 1001, kCapSysAdmin, false, kMount, 2);
  s.outcome(910, kT0 + 1100, kMount, -1);
  Json rep = report_of({aggregate(s)});
  const Json& d = (*cap(rep["caps"], "CAP_SYS_ADMIN"))["denial"];
  EXPECT_EQ(d["failed"], 1);
  EXPECT_EQ((*cap(rep["caps"], "CAP_SYS_ADMIN"))["denied"], 2);
}

// ---- facts from cgroup hooks ----

TraceBuilder raw_socket(common::FactsSource facts) {
  TraceBuilder s = one_check(1000, "/usr/bin/ping", 100, kCapNetRaw, true, kSocket);
  s.header.facts_source = facts;
  return s;
}

TEST(CgroupFacts, ARawSocketCannotBeExplainedByAPingSocketTheTraceCannotShow) {
  const Report rep = classified({aggregate(raw_socket(common::FactsSource::cgroup_hooks))});
  const CapFinding* raw = finding(rep.caps, kCapNetRaw);
  EXPECT_EQ(raw->category, Category::required);
  EXPECT_EQ(raw->reason.kind, CategoryReason::Kind::unexplained_grant);
  EXPECT_TRUE(raw->reason.raw_socket_unexplainable);
  EXPECT_TRUE(has_note(rep, NoteKind::facts_from_cgroup_hooks, {"run1"}));
  EXPECT_EQ(rep.runs[0].facts_source, common::FactsSource::cgroup_hooks);

  const Report sys_exit = classified({aggregate(raw_socket(common::FactsSource::sys_exit))});
  EXPECT_FALSE(finding(sys_exit.caps, kCapNetRaw)->reason.raw_socket_unexplainable);
  EXPECT_FALSE(note(sys_exit, NoteKind::facts_from_cgroup_hooks));
}

TEST(CgroupFacts, BindFactsWithoutAReturnValueStillDriveTheRule) {
  TraceBuilder s = synth();
  s.header.facts_source = common::FactsSource::cgroup_hooks;
  s.exec(1100, kT0, "/usr/sbin/httpd");
  s.op(1100, kT0 + 100, OpKind::bind, kBind, 2, 80, 1, 0, 0, std::nullopt);
  s.check(1100, kT0 + 200, kCapNetBindService, true, kBind);
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rep["caps"], "CAP_NET_BIND_SERVICE"))["category"], "conditional");
  EXPECT_TRUE(rep["executables"][0]["operations"][0]["last_ret"].is_null());
  Json docker = report_of({aggregate(s)}, "docker");
  EXPECT_EQ((*cap(docker["caps"], "CAP_NET_BIND_SERVICE"))["category"], "not_needed");
}

TEST(CgroupFacts, ARuleReadingRetIsUnknownWhenRetIsUnset) {
  auto parsed = parse_rules(
      "[rule failed_bind]\noperation = bind\ncapability = CAP_NET_BIND_SERVICE\nneeded = ret < 0\n"
      "describe = bind\nkernel = test\n");
  ASSERT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.set.rules.size(), 1u);
  OpValues v;
  v.kind = OpKind::bind;
  EXPECT_EQ(evaluate(*parsed.set.rules[0].needed, v, Profile{}, parsed.set), std::nullopt);
  v.ret = -13;
  EXPECT_EQ(evaluate(*parsed.set.rules[0].needed, v, Profile{}, parsed.set), true);
}

// ---- operations taken at syscall exit (format 1.8, --facts sys_exit) ----

constexpr int kCapSyslog_ = 34;

// An open of /proc/kallsyms seen only at its exit (kptr_restrict 0, paranoid
// 1: no check) predicts CAP_SYSLOG under paranoid 2 and nothing as recorded;
// an operation of a kind this analyzer does not know (a future writer's)
// predicts nothing, although check rules such as kallsyms apply to any fact
// of their kind.
TEST(ExitFacts, AnOpenSeenAtExitPredictsAndAnUnknownKindDoesNot) {
  auto head_of = [](OpKind kind) {
    TraceBuilder s = synth();
    s.header.sysctls_global = {{"kernel.kptr_restrict", "0"}, {"kernel.perf_event_paranoid", "1"}};
    s.exec(1200, kT0, "/usr/bin/head");
    s.op(1200, kT0 + 100, kind, 257, 1 /* FILE_KALLSYMS */, 0x8000);
    s.operations.back().args = {-100, 0x1000, 0x8000, 0, 0, 0};
    return aggregate(s);
  };
  const Report as_recorded = classified({head_of(OpKind::open_sensitive)});
  const CapFinding* f = finding(as_recorded.caps, kCapSyslog_);
  EXPECT_TRUE(f == nullptr || !f->recommended);
  const Report strict = classified({head_of(OpKind::open_sensitive)}, "", {"kernel.perf_event_paranoid=2"});
  f = finding(strict.caps, kCapSyslog_);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::conditional);
  EXPECT_TRUE(f->predicted);
  ASSERT_EQ(f->rules.size(), 1u);
  EXPECT_EQ(f->rules[0].rule, "kallsyms");

  // (protected_hardlinks applies to any fact its rule reads, and needs only the sysctl)
  const Report unknown =
      classified({head_of(OpKind::unknown)}, "", {"kernel.perf_event_paranoid=2", "fs.protected_hardlinks=1"});
  for (const auto& c : unknown.caps) EXPECT_FALSE(c.recommended) << c.name << ": " << reason_text(c);
}

// ---- link facts (format 1.9, may_linkat() where fentry or kprobes attach) ----

constexpr int kCapFowner = 3;

// ln of another user's setuid file with fs.protected_hardlinks=0 (no check):
// the link fact predicts CAP_FOWNER under 1. A recording for prediction
// without link facts (the 6.18 host: no trampolines, no kprobes) says why
// the link rules could not predict there instead of saying nothing.
TEST(LinkFacts, ALinkFactPredictsAndARecordingWithoutThemSaysWhy) {
  auto ln = [](bool link_facts) {
    TraceBuilder s = synth();
    s.header.sysctls_global = {{"fs.protected_hardlinks", "0"}};
    s.header.facts_source = common::FactsSource::sys_exit;
    s.header.link_facts = link_facts;
    s.header.link_facts_reason = link_facts ? "fentry/may_linkat attached"
                                            : "unavailable: neither a trampoline nor a kprobe is known to work here";
    s.exec(1300, kT0, "/usr/bin/ln");
    if (link_facts) {
      s.op(1300, kT0 + 100, OpKind::link, 86, 0, 0);
      auto& f = s.operations.back();
      f.ret = std::nullopt;
      f.args = {0x1000, 0x2000, 0, 0, 0, 0};
      f.state.assign(static_cast<size_t>(common::StateSlot::count), common::kStateUnset);
      f.state[static_cast<size_t>(common::StateSlot::link_src_uid)] = 65534;
      f.state[static_cast<size_t>(common::StateSlot::link_src_gid)] = 65534;
      f.state[static_cast<size_t>(common::StateSlot::link_src_mode)] = 0104755;
      f.state[static_cast<size_t>(common::StateSlot::fsuid)] = 0;
      f.state[static_cast<size_t>(common::StateSlot::fsgid)] = 0;
      f.state[static_cast<size_t>(common::StateSlot::link_src_in_groups)] = 0;
    }
    return aggregate(s);
  };
  const Report as_recorded = classified({ln(true)});
  const CapFinding* f = finding(as_recorded.caps, kCapFowner);
  EXPECT_TRUE(f == nullptr || !f->recommended);
  const Report strict = classified({ln(true)}, "", {"fs.protected_hardlinks=1"});
  f = finding(strict.caps, kCapFowner);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::conditional);
  EXPECT_TRUE(f->predicted);
  ASSERT_EQ(f->rules.size(), 1u);
  EXPECT_EQ(f->rules[0].rule, "protected_hardlinks");
  EXPECT_EQ(finding(strict.caps, 1 /* CAP_DAC_OVERRIDE */), nullptr);
  EXPECT_FALSE(note(strict, NoteKind::no_link_facts));

  const Report without = classified({ln(false)}, "", {"fs.protected_hardlinks=1"});
  const Note* n = note(without, NoteKind::no_link_facts);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->ids, std::vector<std::string>{"run1"});
  const std::string text = note_text(*n);
  EXPECT_NE(text.find("neither a trampoline nor a kprobe"), std::string::npos) << text;
  EXPECT_NE(text.find("protected_hardlinks"), std::string::npos) << text;
  // As recorded nothing is re-evaluated, so nothing is missing.
  EXPECT_FALSE(note(classified({ln(false)}), NoteKind::no_link_facts));
}

}  // namespace
}  // namespace capaudit::analyze::test
