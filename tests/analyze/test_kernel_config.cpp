// The kernel's build configuration as a profile key (format 1.9,
// HostSection.kernelConfig -> kernel.config.NAME), and the one rule that
// reads it today: perf_debian_restrict predicts CAP_SYS_ADMIN from a
// perf_event_open seen at its exit only for a target kernel that carries
// Debian's perf_event_paranoid=3 patch, and says so when nobody knows.
// Synthetic traces: the real recordings are tests/rules/rules_e2e.cpp
// (this host, /proc/config.gz without the patch) and tests/kernels/rules
// (perf_debian_predicted, the Debian 6.1/6.12 guests).
#include <gtest/gtest.h>

#include "analyze/core/rules.h"
#include "report_json.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

using common::OpKind;

constexpr const char* kKey = "kernel.config.SECURITY_PERF_EVENTS_RESTRICT";
constexpr int32_t kPerfEventOpen = 298;
constexpr uint64_t kT0 = 2'000'000'000;

TEST(KernelConfigProfile, ValuesReadAsKconfigStates) {
  Profile p;
  for (const auto& [v, n] : {std::pair{"y", kKconfigY}, {"m", kKconfigM}, {"n", kKconfigN}, {"absent", kKconfigAbsent}}) {
    p.set(kKey, v);
    EXPECT_EQ(p.get_int(kKey), n) << v;
  }
  p.set(kKey, "unknown");
  EXPECT_EQ(p.get_int(kKey), std::nullopt);
  // only kernel.config keys read Kconfig words
  p.set("kernel.perf_event_paranoid", "y");
  EXPECT_EQ(p.get_int("kernel.perf_event_paranoid"), std::nullopt);
}

TEST(KernelConfigProfile, FromHeaderUnknownUnlessTheTraceSays) {
  common::Header h;
  EXPECT_EQ(Profile::from_header(h).get(kKey), "unknown");  // before 1.9, or no config readable
  h.kernel_config_source = "/boot/config-6.1.0-31-cloud-amd64";
  h.kernel_config = {{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", "y"}};
  EXPECT_EQ(Profile::from_header(h).get(kKey), "y");
  h.kernel_config = {{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", "absent"}};
  EXPECT_EQ(Profile::from_header(h).get_int(kKey), kKconfigAbsent);
  // every value a recording can hold passes the --profile-from check
  for (const char* v : {"y", "n", "absent", "unknown"}) {
    h.kernel_config = {{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", v}};
    EXPECT_TRUE(check_profile_values(Profile::from_header(h)).empty()) << v;
  }
}

TEST(KernelConfigProfile, FlagValuesAreValidated) {
  Profile p;
  for (const char* ok : {"y", "n", "absent", "unknown"})
    EXPECT_FALSE(parse_sysctl_flag(std::string(kKey) + "=" + ok, p).has_value()) << ok;
  for (const char* bad : {"1", "yes", "m", "", "y n"}) {
    auto err = parse_sysctl_flag(std::string(kKey) + "=" + bad, p);
    ASSERT_TRUE(err.has_value()) << bad;
    EXPECT_NE(err->message.find("Kconfig bool"), std::string::npos) << err->message;
  }
  // slash form and a sysctl.conf file alike
  EXPECT_FALSE(parse_sysctl_flag("kernel/config/SECURITY_PERF_EVENTS_RESTRICT=y", p).has_value());
  EXPECT_EQ(p.get(kKey), "y");
  EXPECT_EQ(parse_sysctl_conf(std::string(kKey) + " = maybe\n").errors.size(), 1u);
}

// perf_event_open(pid 0, cpu -1, exclude_kernel) at its exit: no check.
OpValues perf_exit() {
  OpValues v;
  v.kind = OpKind::perf_event_open;
  v.syscall_nr = kPerfEventOpen;
  v.args = {0x1000, 0, -1, -1, 0, 0};
  v.user_words = {0, 0, 0, 0, 0, 0x20};
  return v;
}

std::optional<bool> needed_at_exit(const char* config, const char* paranoid) {
  const Rule* r = nullptr;
  for (const auto& x : builtin_rules().rules)
    if (x.id == "perf_debian_restrict") r = &x;
  EXPECT_NE(r, nullptr);
  EXPECT_EQ(r->at_exit, OpKind::perf_event_open);
  Profile p;
  p.set("kernel.perf_event_paranoid", paranoid);
  if (config) p.set(kKey, config);
  return evaluate(*r->needed_at_exit, perf_exit(), p, builtin_rules());
}

TEST(KernelConfigRule, PerfDebianRestrictNeedsThePatchInTheTarget) {
  EXPECT_EQ(needed_at_exit("y", "3"), true);
  EXPECT_EQ(needed_at_exit("n", "3"), true);  // the patch without the default: paranoid 3 still gates
  EXPECT_EQ(needed_at_exit("absent", "3"), false);  // a vanilla kernel treats 3 as 2
  EXPECT_EQ(needed_at_exit("unknown", "3"), std::nullopt);
  EXPECT_EQ(needed_at_exit(nullptr, "3"), std::nullopt);
  EXPECT_EQ(needed_at_exit("unknown", "2"), false);  // paranoid 2 decides alone
  EXPECT_EQ(needed_at_exit("y", "2"), false);
}

// A recording at paranoid 2 of a perf_event_open that made no CAP_SYS_ADMIN
// check, on a kernel whose config says CONFIG (nullptr: unknown).
RunAggregate perf_run(const char* config) {
  TraceBuilder s = synth();
  s.header.sysctls_global = {{"kernel.perf_event_paranoid", "2"}};
  if (config) {
    s.header.kernel_config_source = "/boot/config-6.1.0-31-cloud-amd64";
    s.header.kernel_config = {{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", config}};
  } else {
    s.header.kernel_config_missing = "no /proc/config.gz; no /boot/config-6.1.0-31-cloud-amd64";
  }
  s.exec(1300, kT0, "/usr/bin/perf");
  s.op(1300, kT0 + 100, OpKind::perf_event_open, kPerfEventOpen, 0, 0);
  s.operations.back().args = perf_exit().args;
  s.operations.back().user_words = perf_exit().user_words;
  s.operations.back().ret = 3;
  return aggregate(s);
}

bool predicted(const Report& r) {
  const CapFinding* f = finding(r.caps, kCapSysAdmin);
  if (!f || !f->recommended) return false;
  EXPECT_EQ(f->category, Category::conditional);
  EXPECT_TRUE(f->predicted);
  EXPECT_EQ(f->reason.kind, CategoryReason::Kind::rule_predicted);
  EXPECT_NE(reason_text(*f).find("predicted by rule perf_debian_restrict"), std::string::npos) << reason_text(*f);
  return true;
}

TEST(KernelConfigRule, PredictedOnlyWhereTheTargetKernelCarriesThePatch) {
  const std::vector<std::string> strict{"kernel.perf_event_paranoid=3"};
  // As recorded (paranoid 2) nothing, whatever the kernel.
  for (const char* c : {"y", "absent"}) EXPECT_FALSE(predicted(classified({perf_run(c)}))) << c;
  // The same kernel at paranoid 3: predicted where the recording's config
  // has the patch (y or n), not where it lacks it.
  EXPECT_TRUE(predicted(classified({perf_run("y")}, "", strict)));
  EXPECT_TRUE(predicted(classified({perf_run("n")}, "", strict)));
  const Report vanilla = classified({perf_run("absent")}, "", strict);
  EXPECT_FALSE(predicted(vanilla));
  EXPECT_FALSE(note(vanilla, NoteKind::not_predicted)) << "absent is an answer, not an unknown";
  // A target stated to be another kernel wins over the recording's.
  EXPECT_FALSE(predicted(classified({perf_run("y")}, "", {"kernel.perf_event_paranoid=3", std::string(kKey) + "=absent"})));
  EXPECT_TRUE(predicted(classified({perf_run("absent")}, "", {"kernel.perf_event_paranoid=3", std::string(kKey) + "=y"})));
}

TEST(KernelConfigRule, UnknownConfigIsNotPredictedAndTheReportSaysWhy) {
  const Report r = classified({perf_run(nullptr)}, "", {"kernel.perf_event_paranoid=3"});
  EXPECT_FALSE(predicted(r));
  const Note* n = note(r, NoteKind::not_predicted);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->ids, std::vector<std::string>{"perf_debian_restrict"});
  EXPECT_EQ(n->cap, kCapSysAdmin);
  EXPECT_EQ(n->keys, std::vector<std::string>{kKey});
  const std::string words = note_text(*n);
  EXPECT_NE(words.find("CAP_SYS_ADMIN not predicted"), std::string::npos) << words;
  EXPECT_NE(words.find("perf_event_paranoid=3 patch is unknown"), std::string::npos) << words;
  EXPECT_NE(words.find("--sysctl " + std::string(kKey) + "=y"), std::string::npos) << words;
  // and in every output: JSON notes are its words
  const Json j = Json::parse(render_json(r));
  EXPECT_NE(j["notes"].dump().find("not predicted"), std::string::npos);

  // Stating it decides: predicted for a patched target, nothing to say for a vanilla one.
  EXPECT_TRUE(predicted(classified({perf_run(nullptr)}, "", {"kernel.perf_event_paranoid=3", std::string(kKey) + "=y"})));
  const Report stated = classified({perf_run(nullptr)}, "", {"kernel.perf_event_paranoid=3", std::string(kKey) + "=absent"});
  EXPECT_FALSE(predicted(stated));
  EXPECT_FALSE(note(stated, NoteKind::not_predicted));
  // paranoid 2 decides without the config: no note
  EXPECT_FALSE(note(classified({perf_run(nullptr)}), NoteKind::not_predicted));

  // Another trace taken as the target (--profile-from) without a config says
  // unknown; the recording's own y is not the target's.
  ClassifyOptions o;
  common::Header other;
  other.sysctls_global = {{"kernel.perf_event_paranoid", "3"}};
  o.overlay = Profile::from_header(other);
  o.profile_name = "trace:other.cap";
  const Report from_other = classify({perf_run("y")}, o);
  EXPECT_FALSE(predicted(from_other));
  EXPECT_TRUE(note(from_other, NoteKind::not_predicted));
}

// A plain report (no target profile) predicts nothing and so says nothing of
// what it could not predict; a rule key the recording host lacked too (no Yama
// there) is worded as such, not as a gap in the target profile. The second
// was a real report: a ptrace of a sibling recorded with --facts sys_exit on
// the 6.18 host printed "the target profile does not say
// kernel.yama.ptrace_scope" in every report of it.
TEST(KernelConfigRule, APlainReportSaysNothingOfPredictions) {
  TraceBuilder s = synth();
  s.header.sysctls_global = {{"kernel.perf_event_paranoid", "3"}};  // recorded at 3, no config: unknown
  s.exec(1300, kT0, "/usr/bin/perf");
  s.op(1300, kT0 + 100, OpKind::perf_event_open, kPerfEventOpen, 0, 0);
  s.operations.back().args = perf_exit().args;
  s.operations.back().user_words = perf_exit().user_words;
  s.operations.back().ret = 3;
  EXPECT_FALSE(note(classified({aggregate(s)}), NoteKind::not_predicted));
  const Report re = classified({aggregate(s)}, "", {"kernel.perf_event_paranoid=3"});
  const Note* n = note(re, NoteKind::not_predicted);
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->keys_unknown_when_recorded);
}

TEST(KernelConfigRule, AKeyTheRecordingHostLackedIsWordedSo) {
  Note n(NoteKind::not_predicted, {"yama_ptrace"});
  n.cap = 19;
  n.operation = "ptrace attach to pid 7";
  n.keys = {"kernel.yama.ptrace_scope"};
  n.keys_unknown_when_recorded = true;
  EXPECT_EQ(note_text(n),
            "CAP_SYS_PTRACE not predicted for ptrace attach to pid 7 (rule yama_ptrace): neither the recording host "
            "nor the target profile has kernel.yama.ptrace_scope (a kernel without it has no such gate); to predict "
            "for a kernel that has it, state it with --sysctl kernel.yama.ptrace_scope=VALUE.");
}

// Generic words for a rule without its own `unknown`: the keys and the flag.
TEST(KernelConfigRule, GenericWordsNameTheUnknownKeys) {
  Note n(NoteKind::not_predicted, {"r"});
  n.cap = kCapSysAdmin;
  n.operation = "x";
  n.keys = {"kernel.yama.ptrace_scope"};
  EXPECT_EQ(note_text(n),
            "CAP_SYS_ADMIN not predicted for x (rule r): the target profile does not say kernel.yama.ptrace_scope; "
            "state it with --sysctl kernel.yama.ptrace_scope=VALUE.");
  auto p = parse_rules("[rule a]\ncheck = f\ncapability = CAP_CHOWN\nneeded = 1\nunknown = why\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].message.find("unknown without at_exit"), std::string::npos) << p.errors[0].message;
}

}  // namespace
}  // namespace capaudit::analyze::test
