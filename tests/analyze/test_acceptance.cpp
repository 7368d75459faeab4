// The acceptance cases of issue 4, on synthetic traces. Assertions run on the
// parsed JSON report, so the machine-readable output is what is verified.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "report_json.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

using common::OpKind;

// A server bound to port 80 as root.
TraceBuilder bind80(const std::string& start) {
  TraceBuilder s = synth();
  s.sysctl("net.ipv4.ip_unprivileged_port_start", start);
  s.exec(100, 2'000'000'000, "/usr/sbin/httpd");
  s.op(100, 2'000'100'000, OpKind::bind, kBind, /*AF_INET*/ 2, 80, /*SOCK_STREAM*/ 1, 0);
  if (std::stoi(start) > 80) s.check(100, 2'000'100'500, kCapNetBindService, true, kBind);
  return s;
}

TEST(Acceptance, Case1_BindBelowStartIsConditional_DockerProfileMakesItUnneeded) {
  auto run = aggregate(bind80("1024"));
  Json rep = report_of({run});
  const Json* c = cap(rep["caps"], "CAP_NET_BIND_SERVICE");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "conditional");
  EXPECT_EQ((*c)["rules"][0]["rule"], "bind_port");
  EXPECT_EQ((*c)["rules"][0]["operation"], "bind to port 80");
  EXPECT_EQ((*c)["rules"][0]["needed_recorded"], true);
  EXPECT_TRUE(recommended(rep, "CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(rep["changes"].empty());
  ASSERT_EQ(rep["executables"][0]["operations"].size(), 1u);
  EXPECT_EQ(rep["executables"][0]["operations"][0]["description"], "bind AF_INET port 80 (type 1, protocol 0)");

  const Report typed = classified({run}, "docker");
  Json docker = Json::parse(render_json(typed));
  c = cap(docker["caps"], "CAP_NET_BIND_SERVICE");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "not_needed");
  EXPECT_FALSE(recommended(docker, "CAP_NET_BIND_SERVICE"));
  const Json* ch = change(docker, "CAP_NET_BIND_SERVICE");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ((*ch)["kind"], "vanished");
  // Why: the rule that answers differently under the two profiles.
  ASSERT_EQ(typed.changes.size(), 2u);
  EXPECT_EQ(typed.changes[0].executable, std::nullopt);  // the merged view first
  EXPECT_EQ(typed.changes[1].executable, (ExecutableName{"/usr/sbin/httpd", {}, false}));
  for (const auto& c : typed.changes) {  // merged and per executable
    ASSERT_EQ(c.rules.size(), 1u);
    EXPECT_EQ(c.rules[0].rule, "bind_port");
    EXPECT_EQ(c.rules[0].needed_recorded, true);
    EXPECT_EQ(c.rules[0].needed_target, false);
  }
}

TEST(Acceptance, Case2_BindWithoutCheckAppearsPredictedUnderStricterProfile) {
  auto run = aggregate(bind80("0"));
  Json rep = report_of({run});
  EXPECT_EQ(cap(rep["caps"], "CAP_NET_BIND_SERVICE"), nullptr);
  EXPECT_TRUE(rep["recommended"].empty());

  Json strict = report_of({run}, "", {"net.ipv4.ip_unprivileged_port_start=1024"});
  const Json* c = cap(strict["caps"], "CAP_NET_BIND_SERVICE");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "conditional");
  EXPECT_EQ((*c)["predicted"], true);
  EXPECT_TRUE(recommended(strict, "CAP_NET_BIND_SERVICE"));
  const Json* ch = change(strict, "CAP_NET_BIND_SERVICE");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ((*ch)["kind"], "appeared");
  EXPECT_EQ((*ch)["before"], nullptr);
}

TEST(Acceptance, Case3_RootTrueIsAllAdvisory) {
  // Call paths as recorded on kernel 6.18 (bpftrace on tp cap_capable, `true` as root).
  TraceBuilder s = synth();
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "__mmap_region+3409", "do_mmap+1172",
              "vm_mmap_pgoff+292", "elf_load+175", "load_elf_binary+1642", "bprm_execve+703",
              "do_execveat_common.isra.0+422", "__x64_sys_execve+52", "do_syscall_64+113"});
  s.stack(2, {"cap_capable+131", "security_vm_enough_memory_mm+54", "expand_downwards+577", "setup_arg_pages+580",
              "load_elf_binary+994", "bprm_execve+703"});
  // As capaudit-record stores it: the probe's own frames come first.
  s.stack(3, {"bpf_prog_bc38262b296514c9_on_exit+0x1f", "bpf_trace_run5+0x7c", "__traceiter_cap_capable+0x3a",
              "cap_capable+131", "security_vm_enough_memory_mm+54", "__mmap_region+3409", "do_mmap+1172",
              "vm_mmap_pgoff+292", "ksys_mmap_pgoff+344", "do_syscall_64+113"});
  s.stack(4, {"cap_capable+60", "ns_capable_common+40", "cap_bprm_creds_from_file+512", "security_bprm_creds_from_file+40",
              "bprm_execve+703"});
  s.exec(200, 3'000'000'000, "/usr/bin/true");
  s.check(200, 3'000'000'100, kCapSysAdmin, true, kExecve, 1);
  s.check(200, 3'000'000'200, kCapSysAdmin, true, kExecve, 2);
  s.check(200, 3'000'000'250, kCapSetuid, true, kExecve, 4);
  for (int i = 0; i < 6; ++i) s.check(200, 3'000'001'000 + i, kCapSysAdmin, true, kMmap, 3);
  Json rep = report_of({aggregate(s)});
  const Json* c = cap(rep["caps"], "CAP_SYS_ADMIN");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "advisory");
  EXPECT_EQ((*c)["noise_basis"], "call_path");
  EXPECT_EQ((*c)["granted"], 8);
  for (const auto& p : (*c)["call_paths"]) EXPECT_EQ(p["frames"][0], "cap_capable");
  c = cap(rep["caps"], "CAP_SETUID");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "advisory");
  EXPECT_TRUE(rep["recommended"].empty());
}

TEST(Acceptance, Case3b_WithoutCallPathsTheDecisionIsWeaker) {
  TraceBuilder s = synth();
  s.exec(200, 3'000'000'000, "/usr/bin/true");
  s.check(200, 3'000'000'100, kCapSysAdmin, true, kMmap);
  const Report r = classified({aggregate(s)});
  const CapFinding* c = finding(r.caps, kCapSysAdmin);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->category, Category::advisory);
  EXPECT_EQ(c->noise_basis, NoiseBasis::syscall);  // the weakest basis
  EXPECT_EQ(c->reason.kind, CategoryReason::Kind::noise);
  EXPECT_EQ(c->reason.noise.kind, NoiseCause::Kind::catalogue_fallback);
}

// The recorder keeps the call path of only the first few checks of a
// (capability, syscall, verdict) per task. A shell forking many children
// makes more overcommit checks in clone() than that budget (real-bind80
// sample): the unsampled ones repeat a noise path and must not turn
// SYS_ADMIN into "required".
TEST(Acceptance, Case3c_UnsampledChecksFollowTheirSampledSiblings) {
  constexpr int32_t kClone = 56;
  TraceBuilder s = synth();
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "dup_mmap+597", "copy_process+4359",
              "kernel_clone+148", "__do_sys_clone+101", "do_syscall_64+113"});
  s.exec(200, 3'000'000'000, "/usr/bin/timeout");
  for (int i = 0; i < 4; ++i) s.check(200, 3'000'000'100 + i, kCapSysAdmin, true, kClone, 1);
  for (int i = 0; i < 7; ++i) s.check(200, 3'000'001'000 + i, kCapSysAdmin, true, kClone, 0);
  Json rep = report_of({aggregate(s)});
  const Json* c = cap(rep["caps"], "CAP_SYS_ADMIN");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "advisory");
  EXPECT_EQ((*c)["noise_basis"], "call_path");
  EXPECT_EQ((*c)["granted"], 11);
  EXPECT_TRUE(rep["recommended"].empty());
}

// A sampled sibling that gates something keeps the unsampled ones gating too.
TEST(Acceptance, Case3d_UnsampledChecksWithAGatingSiblingStayRequired) {
  constexpr int32_t kClone = 56;
  TraceBuilder s = synth();
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "dup_mmap+597", "copy_process+4359"});
  s.stack(2, {"cap_capable+60", "ns_capable+20", "copy_namespaces+100", "copy_process+4359"});
  s.exec(200, 3'000'000'000, "/usr/bin/unshare");
  s.check(200, 3'000'000'100, kCapSysAdmin, true, kClone, 1);
  s.check(200, 3'000'000'200, kCapSysAdmin, true, kClone, 2);
  for (int i = 0; i < 3; ++i) s.check(200, 3'000'001'000 + i, kCapSysAdmin, true, kClone, 0);
  Json rep = report_of({aggregate(s)});
  const Json* c = cap(rep["caps"], "CAP_SYS_ADMIN");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "required");
}

TEST(Acceptance, Case3e_AForkedChildInheritsTheSpentStackBudget) {
  // The recorder's per-task stack budget is copied into a forked child: the
  // child's clone checks carry no path, and repeat what its parent sampled.
  constexpr int32_t kClone = 56;
  TraceBuilder s = synth();
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "dup_mmap+597", "copy_process+4359"});
  s.exec(300, 3'000'000'000, "/usr/bin/bash");
  for (int i = 0; i < 4; ++i) s.check(300, 3'000'000'100 + i, kCapSysAdmin, true, kClone, 1);
  s.fork(300, 301, 3'000'000'500);
  s.check(301, 3'000'001'000, kCapSysAdmin, true, kClone, 0);
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rep["caps"], "CAP_SYS_ADMIN"))["category"], "advisory");
  EXPECT_TRUE(rep["recommended"].empty());

  // A gating path of that key anywhere in the run (here another program's
  // namespace clone) keeps the unsampled ones required.
  s.stack(2, {"cap_capable+60", "ns_capable+20", "copy_namespaces+100", "copy_process+4359"});
  s.fork(300, 302, 3'000'001'500);
  s.exec(302, 3'000'001'600, "/usr/bin/unshare");
  s.check(302, 3'000'002'000, kCapSysAdmin, true, kClone, 2);
  Json gating = report_of({aggregate(s)});
  for (const auto& e : gating["executables"])
    if (e["path"] == "/usr/bin/bash") EXPECT_EQ((*cap(e["caps"], "CAP_SYS_ADMIN"))["category"], "required");
}

TEST(Acceptance, Case4_ThreeRunsOneChowns) {
  std::vector<RunAggregate> runs;
  for (int i = 0; i < 3; ++i) {
    TraceBuilder s = synth();
    s.exec(300, 1'500'000'000, "/usr/bin/installer");
    if (i == 1) s.check(300, 1'600'000'000, kCapChown, true, kChown);
    runs.push_back(aggregate(s, "run" + std::to_string(i) + ".cap"));
  }
  Json rep = report_of(runs);
  const Json* c = cap(rep["caps"], "CAP_CHOWN");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["category"], "required");
  EXPECT_EQ((*c)["coverage"]["runs_seen"], 1);
  EXPECT_EQ((*c)["coverage"]["runs_total"], 3);
  EXPECT_EQ((*c)["coverage"]["runs"], Json::array({"run2"}));
  EXPECT_EQ((*c)["first_use_ns"], 100'001'000);  // relative to process start
  EXPECT_TRUE(recommended(rep, "CAP_CHOWN"));
  ClassifyOptions o;
  EXPECT_NE(render_text(classify(runs, o)).find("CAP_CHOWN: seen in 1 of 3 runs"), std::string::npos);
}

TEST(Acceptance, Case5_DeniedAssessmentsDiffer_NeitherRecommended) {
  TraceBuilder s = synth();
  s.exec(400, 1'500'000'000, "/usr/bin/tool", 1000, 0);
  s.check(400, 1'600'000'000, kCapSysAdmin, false, kMount);
  s.outcome(400, 1'600'000'100, kMount, -1);  // EPERM
  s.check(400, 1'700'000'000, kCapFowner, false, kLink);
  s.outcome(400, 1'700'000'100, kLink, 0);  // the link succeeded anyway
  Json rep = report_of({aggregate(s)});
  const Json* admin = cap(rep["caps"], "CAP_SYS_ADMIN");
  const Json* fowner = cap(rep["caps"], "CAP_FOWNER");
  ASSERT_NE(admin, nullptr);
  ASSERT_NE(fowner, nullptr);
  EXPECT_EQ((*admin)["category"], "denied_only");
  EXPECT_EQ((*fowner)["category"], "denied_only");
  EXPECT_EQ((*admin)["denial"]["assessment"], "failed");
  EXPECT_EQ((*fowner)["denial"]["assessment"], "succeeded_anyway");
  EXPECT_TRUE(rep["recommended"].empty());
}

TEST(Acceptance, Case5b_DeniedWithoutOutcomeSaysSo) {
  TraceBuilder s = synth();
  s.exec(400, 1'500'000'000, "/usr/bin/tool", 1000, 0);
  s.check(400, 1'600'000'000, kCapNetRaw, false, kSocket);
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rep["caps"], "CAP_NET_RAW"))["denial"]["assessment"], "no_outcome");
}

TEST(Acceptance, Case6_TruncatedTraceIsReportedIncomplete) {
  TraceBuilder s = synth();
  s.exec(500, 1'500'000'000, "/usr/bin/daemon");
  s.check(500, 1'600'000'000, kCapChown, true, kChown);
  s.trailer.reset();  // a killed recorder's file: the reader finds it truncated
  auto run = aggregate(s);
  Report r = classify({run});
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(exit_code_for(r), 3);
  Json rep = Json::parse(render_json(r));
  EXPECT_EQ(rep["complete"], false);
  EXPECT_EQ(rep["runs"][0]["status"], "truncated");
  EXPECT_TRUE(recommended(rep, "CAP_CHOWN"));  // what was read is still analyzed
  EXPECT_NE(render_text(r).find("INCOMPLETE"), std::string::npos);

  TraceBuilder lossy = synth();
  lossy.trailer->losses.ringbuf_drops = 12;
  Report l = classify({aggregate(lossy)});
  EXPECT_EQ(exit_code_for(l), 3);
  EXPECT_EQ(l.runs[0].incomplete_reasons[0], "12 events dropped (ring buffer full)");
  EXPECT_EQ(exit_code_for(classify({aggregate(synth())})), 0);
}

TEST(Acceptance, Case7_CapsetDropAfterBind) {
  TraceBuilder s = synth();
  s.exec(600, 1'500'000'000, "/usr/sbin/ntpd");
  s.op(600, 1'600'000'000, OpKind::bind, kBind, 2, 123, 2, 0);
  s.check(600, 1'600'000'100, kCapNetBindService, true, kBind);
  // Keeps only SYS_TIME and NET_RAW; NET_RAW is never used afterwards.
  uint64_t keep = cap_bit(25) | cap_bit(kCapNetRaw);
  s.capset(600, 1'700'000'000, keep, keep);
  s.check(600, 1'800'000'000, 25, true, /*clock_adjtime*/ 305);
  Json rep = report_of({aggregate(s)});
  const Json* bind = cap(rep["caps"], "CAP_NET_BIND_SERVICE");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ((*bind)["category"], "conditional");
  EXPECT_EQ((*bind)["startup_only"], true);
  const Json* raw = cap(rep["caps"], "CAP_NET_RAW");
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ((*raw)["category"], "capset_only");
  EXPECT_FALSE(recommended(rep, "CAP_NET_RAW"));
  const Json* time = cap(rep["caps"], "CAP_SYS_TIME");
  ASSERT_NE(time, nullptr);
  EXPECT_EQ((*time)["category"], "required");
  EXPECT_EQ((*time)["startup_only"], false);
  EXPECT_EQ(rep["startup_only"], Json::array({"CAP_NET_BIND_SERVICE"}));
}

TEST(Classify, AFailedPingSocketsRawFallbackIsClearedByPingGroupButARawSocketOfItsOwnIsNot) {
  // gid 1000 outside ping_group_range "1 0": the ICMP datagram socket fails
  // with EACCES and the program falls back to a raw socket (CAP_NET_RAW).
  TraceBuilder s = synth();
  s.exec(1000, 1'500'000'000, "/usr/bin/ping");
  s.op(1000, 1'500'100'000, OpKind::socket, kSocket, 2, 2, 1, 0, 1000, -13);
  s.op(1000, 1'500'200'000, OpKind::socket, kSocket, 2, 3, 1, 0, 1000, 3);
  s.check(1000, 1'500'200'100, kCapNetRaw, true, kSocket);
  Json rec = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rec["caps"], "CAP_NET_RAW"))["category"], "conditional");
  // Under docker (ping_group_range "0 2147483647") the datagram socket works,
  // so the raw socket it fell back to is not opened: not needed.
  Json docker = report_of({aggregate(s)}, "docker");
  EXPECT_EQ((*cap(docker["caps"], "CAP_NET_RAW"))["category"], "not_needed");
  EXPECT_FALSE(recommended(docker, "CAP_NET_RAW"));

  // A raw ICMP socket with no refused datagram socket before it (ping with
  // its file capability goes straight to raw) is an operation of its own: no
  // rule clears it.
  TraceBuilder raw = synth();
  raw.exec(1001, 1'500'000'000, "/usr/bin/ping");
  raw.op(1001, 1'500'100'000, OpKind::socket, kSocket, 2, 3, 1, 0, 1000, 3);
  raw.check(1001, 1'500'100'100, kCapNetRaw, true, kSocket);
  raw.op(1001, 1'500'200'000, OpKind::socket, kSocket, 2, 2, 1, 0, 1000, -13);  // after it: not its fallback
  Json d2 = report_of({aggregate(raw)}, "docker");
  EXPECT_EQ((*cap(d2["caps"], "CAP_NET_RAW"))["category"], "required");
  EXPECT_TRUE(recommended(d2, "CAP_NET_RAW"));
}

TEST(Classify, NonInitialUserNamespaceChecksStayOutOfTheHostSet) {
  TraceBuilder s = synth();
  s.exec(700, 1'500'000'000, "/usr/bin/rootless", 1000, 0);
  s.check(700, 1'600'000'000, kCapSysAdmin, true, kMount, 0, 4026532000);
  s.check(700, 1'600'000'100, kCapChown, true, kChown);
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ(cap(rep["caps"], "CAP_SYS_ADMIN"), nullptr);
  ASSERT_EQ(rep["namespaces"].size(), 1u);
  EXPECT_EQ(rep["namespaces"][0]["userns_inum"], 4026532000u);
  EXPECT_EQ(rep["namespaces"][0]["caps"][0]["name"], "CAP_SYS_ADMIN");
  EXPECT_EQ(rep["recommended"], Json::array({"CAP_CHOWN"}));
}

TEST(Classify, DeclaredFileCapsNeverExercised) {
  TraceBuilder s = synth();
  s.exec(800, 1'500'000'000, "/usr/bin/ping", 1000, 0);
  common::FileCaps fc;
  fc.permitted = cap_bit(kCapNetRaw) | cap_bit(kCapNetBindService);
  s.execs.back().file_caps = fc;
  s.check(800, 1'600'000'000, kCapNetRaw, true, kSocket);
  Json rep = report_of({aggregate(s)});
  EXPECT_EQ((*cap(rep["caps"], "CAP_NET_RAW"))["category"], "required");
  EXPECT_EQ((*cap(rep["caps"], "CAP_NET_BIND_SERVICE"))["category"], "declared_unobserved");
  EXPECT_EQ(rep["executables"][0]["file_caps"]["permitted"].size(), 2u);
}

TEST(Classify, DeclaredByADeploymentNeverExercised) {
  TraceBuilder s = synth();
  s.exec(800, 1'500'000'000, "/usr/sbin/webd");
  s.check(800, 1'600'000'000, kCapChown, true, kChown);
  ClassifyOptions o;
  o.declared.push_back({cap_bit(kCapChown) | cap_bit(kCapSysAdmin), "unit webd.service"});
  const Report r = classify({aggregate(s)}, o);
  Json rep = Json::parse(render_json(r));
  EXPECT_EQ((*cap(rep["caps"], "CAP_CHOWN"))["category"], "required");
  const CapFinding* admin = finding(r.caps, kCapSysAdmin);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->category, Category::declared_unobserved);
  EXPECT_EQ(admin->reason.kind, CategoryReason::Kind::declared);
  EXPECT_EQ(admin->declared_by, (std::vector<DeclaredBy>{{"unit webd.service", {}}}));
  EXPECT_EQ(rep["recommended"], Json::array({"CAP_CHOWN"}));
}

TEST(Classify, ProcessIdentityIsNotTheBarePid) {
  // The same pid reused by two different programs in one run.
  TraceBuilder s = synth();
  s.exec(900, 1'500'000'000, "/usr/bin/first");
  s.check(900, 1'500'100'000, kCapChown, true, kChown);
  s.exec(900, 1'600'000'000, "/usr/bin/second");
  s.check(900, 1'600'100'000, kCapFowner, true, kLink);
  Json rep = report_of({aggregate(s)});
  ASSERT_EQ(rep["executables"].size(), 2u);
  for (const auto& e : rep["executables"]) {
    Json want = Json::array({e["path"] == "/usr/bin/first" ? "CAP_CHOWN" : "CAP_FOWNER"});
    EXPECT_EQ(e["recommended"], want) << e["path"];
  }
}

TEST(Render, FullTextHasEverySection) {
  Report r = classify({aggregate(bind80("1024"))});
  std::string text = render_text(r, {60, false, "", true});
  for (const char* h : {"Verdict", "Context", "Required", "Conditional", "Advisory", "Denied only", "Capset-only",
                        "Startup-only", "Coverage", "Summary", "Recommended"})
    EXPECT_NE(text.find(h), std::string::npos) << h;
  EXPECT_EQ(text.find("\033["), std::string::npos);  // no colour unless asked
  EXPECT_NE(render_text(r, {80, true, ""}).find("\033[1m"), std::string::npos);
}

// By default the verdict comes first and only sections with content follow.
TEST(Render, DefaultTextOpensWithTheVerdictAndSkipsEmptySections) {
  Report r = classify({aggregate(bind80("1024"))});
  const std::string text = render_text(r, {100, false, ""});
  const size_t verdict = text.find("\nVerdict: grant CAP_NET_BIND_SERVICE\n");
  ASSERT_NE(verdict, std::string::npos) << text;
  EXPECT_LT(verdict, text.find("Context")) << text;
  EXPECT_NE(text.find("bind ports below 1024"), std::string::npos) << text;
  for (const char* h : {"Capset-only", "Declared but unobserved", "Summary", "Coverage", "(0)", "none\n"})
    EXPECT_EQ(text.find(h), std::string::npos) << h << "\n" << text;
}

}  // namespace
}  // namespace capaudit::analyze::test
