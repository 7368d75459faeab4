// The analyzer on trace files (written by tests/support's TraceBuilder with
// the production writer): the findings survive the writer and reader, and
// the CLI honours its exit codes and output rules.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "synthetic.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/trace_builder.h"

namespace capaudit::analyze::test {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

TraceBuilder scenario() {
  TraceBuilder s = synth();
  s.batch = 4;
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "__mmap_region+3409"});
  s.exec(600, 1'500'000'000, "/usr/sbin/ntpd");
  s.check(600, 1'500'000'500, kCapSysAdmin, true, kMmap, 1);
  s.op(600, 1'600'000'000, common::OpKind::bind, kBind, 2, 123, 2, 0);
  s.check(600, 1'600'000'100, kCapNetBindService, true, kBind);
  s.fork(600, 601, 1'650'000'000);
  s.check(601, 1'660'000'000, kCapChown, true, kChown);
  uint64_t keep = cap_bit(25) | cap_bit(kCapNetRaw);
  s.capset(600, 1'700'000'000, keep, keep);
  s.check(600, 1'800'000'000, 25, true, 305);
  s.check(600, 1'900'000'000, kCapSysAdmin, false, kMount);
  s.outcome(600, 1'900'000'100, kMount, -1);
  return s;
}

TEST(TraceFiles, TheRealWriterAndReaderCarryEveryFinding) {
  TraceBuilder s = scenario();
  Aggregator agg("bytes");
  auto rr = common::read_trace_bytes(s.bytes(), agg);
  ASSERT_EQ(rr.status, common::ReadStatus::complete) << rr.message;
  EXPECT_EQ(rr.batches, 3u);  // 10 events, 4 a batch
  Report a = classify({agg.finish(rr)});
  EXPECT_TRUE(a.complete);
  EXPECT_EQ(a.recommended, cap_bit(kCapNetBindService) | cap_bit(25) | cap_bit(kCapChown));
  EXPECT_EQ(a.startup_only, cap_bit(kCapNetBindService));
}

TEST(TraceFiles, Format12FieldsSurviveTheRealWriterAndReader) {
  // A setuid() drop, a denial before the outcome window and one inside it.
  TraceBuilder s = synth();
  s.batch = 2;
  s.header.facts_source = common::FactsSource::cgroup_hooks;
  s.header.outcome_tracking = common::OutcomeTracking::from_first_denial;
  s.exec(700, 1'500'000'000, "/usr/sbin/webd");
  s.check(700, 1'600'000'100, kCapNetBindService, true, kBind);
  s.cred_change(700, 1'700'000'000, 0, 0, 33, 33);
  s.check(700, 1'800'000'000, kCapSysAdmin, false, kMount);
  s.trailer->outcomes_from_ns = 1'850'000'000;
  s.check(700, 1'900'000'000, kCapSysAdmin, false, kMount);
  s.outcome(700, 1'900'000'100, kMount, -1);
  Aggregator agg("bytes");
  auto rr = common::read_trace_bytes(s.bytes(), agg);
  ASSERT_EQ(rr.status, common::ReadStatus::complete) << rr.message;
  Report a = classify({agg.finish(rr)});
  EXPECT_EQ(a.startup_only, cap_bit(kCapNetBindService));
  EXPECT_TRUE(a.runs[0].cred_changes);
  EXPECT_EQ(a.runs[0].facts_source, common::FactsSource::cgroup_hooks);
  const auto admin = std::find_if(a.caps.begin(), a.caps.end(), [](const CapFinding& f) { return f.cap == kCapSysAdmin; });
  ASSERT_NE(admin, a.caps.end());
  ASSERT_TRUE(admin->denial);
  EXPECT_EQ(admin->denial->not_tracked, 1u);
  EXPECT_EQ(admin->denial->failed, 1u);
}

class Cli : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  // Runs capaudit-analyze; returns the exit code, stdout in `out`.
  int run(const std::string& args, std::string& out) {
    std::string cmd = std::string(CAPAUDIT_ANALYZE_BIN) + " " + args + " 2>" + (dir_ / "stderr").string();
    FILE* f = ::popen(cmd.c_str(), "r");
    out.clear();
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    int status = ::pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string stderr_text() {
    std::ifstream in(dir_ / "stderr");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  capaudit::test::ScratchDir dir_{"capaudit-analyze-test"};
};

TEST_F(Cli, CompleteTraceExitsZeroWithJson) {
  auto path = write("t.cap", scenario().bytes());
  std::string out;
  ASSERT_EQ(run("report -f json " + path, out), 0) << stderr_text();
  Json j = Json::parse(out);
  EXPECT_EQ(j["schema_version"], kReportSchemaVersion);
  EXPECT_EQ(j["complete"], true);
  ASSERT_EQ(run("report -f yaml " + path, out), 0);
  EXPECT_NE(out.find("schema_version: \"1.3\""), std::string::npos);
  ASSERT_EQ(run("report " + path, out), 0);
  EXPECT_NE(out.find("Recommended"), std::string::npos);
  EXPECT_EQ(out.find("\033["), std::string::npos);  // a pipe gets no colour
}

TEST_F(Cli, TruncatedTraceExitsThreeAndStillReports) {
  TraceBuilder s = scenario();
  s.trailer.reset();  // what a killed recorder leaves
  auto path = write("cut.cap", s.bytes());
  std::string out;
  ASSERT_EQ(run("report -f json " + path, out), 3) << stderr_text();
  Json j = Json::parse(out);
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["runs"][0]["status"], "truncated");
  EXPECT_FALSE(j["recommended"].empty());
}

// Format 1.5: a recording ended by --max-size is a whole file (exit 0 for
// info, one run) whose target ran on unrecorded: the report calls it incomplete.
TEST_F(Cli, MaxSizeStopIsAWholeFileButAnIncompleteRun) {
  TraceBuilder s = scenario();
  s.trailer->stop_reason = "max-size";
  s.trailer->max_size_reached = true;
  auto path = write("max-size.cap", s.bytes());
  std::string out;
  ASSERT_EQ(run("info " + path, out), 3) << stderr_text();
  EXPECT_NE(out.find("stop reason:  max-size"), std::string::npos) << out;
  EXPECT_NE(out.find("size limit:   reached (--max-size)"), std::string::npos) << out;
  ASSERT_EQ(run("report -f json " + path, out), 3) << stderr_text();
  Json j = Json::parse(out);
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["status"], "complete");
  EXPECT_EQ(j["runs"][0]["incomplete_reasons"],
            Json::array({"--max-size ended the recording: the target ran on unrecorded"}));
  EXPECT_FALSE(j["recommended"].empty());
}

// Format 1.3: runs of our programs the kernel skipped (recursion) are lost
// checks; a trace with nothing else missing is still incomplete, and says why.
TEST_F(Cli, HookRecursionMissesMakeTheTraceIncomplete) {
  TraceBuilder s = scenario();
  s.trailer->losses.hook_misses = 3;
  auto path = write("missed.cap", s.bytes());
  std::string out;
  ASSERT_EQ(run("report -f json " + path, out), 3) << stderr_text();
  Json j = Json::parse(out);
  EXPECT_EQ(j["complete"], false);
  EXPECT_EQ(j["runs"][0]["status"], "complete");  // the file itself is whole
  EXPECT_EQ(j["runs"][0]["incomplete_reasons"],
            Json::array({"3 hook runs skipped (recursion: one was already running on that CPU)"}));
  ASSERT_EQ(run("report " + path, out), 3);
  EXPECT_NE(out.find("incomplete: 3 hook runs skipped"), std::string::npos) << out;
  run("info " + path, out);
  EXPECT_NE(out.find("SOME EVENTS WERE NOT RECORDED"), std::string::npos) << out;
  EXPECT_NE(out.find("hook runs skipped:   3"), std::string::npos) << out;

  s.trailer->losses.hook_misses = 0;
  ASSERT_EQ(run("report -f json " + write("whole.cap", s.bytes()), out), 0) << stderr_text();
}

TEST_F(Cli, ErrorsExitOneBadUsageTwo) {
  std::string out;
  auto junk = write("junk.cap", {'n', 'o', 't', ' ', 'a', ' ', 't', 'r', 'a', 'c', 'e'});
  EXPECT_EQ(run("report " + junk, out), 1);
  auto good = write("t.cap", scenario().bytes());
  EXPECT_EQ(run("report -f xml " + good, out), 2);
  EXPECT_EQ(run("report --profile nosuch " + good, out), 2);
  std::ofstream(dir_ / "bad.conf") << "kernel.a = 1\nbroken line\n";
  EXPECT_EQ(run("report --sysctl-profile " + (dir_ / "bad.conf").string() + " " + good, out), 1);
  EXPECT_NE(stderr_text().find("line 2"), std::string::npos) << stderr_text();
  // An existing output file is never overwritten.
  std::ofstream(dir_ / "exists.json") << "keep me";
  EXPECT_EQ(run("report -o " + (dir_ / "exists.json").string() + " " + good, out), 1);
  std::ifstream kept(dir_ / "exists.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "keep me");
}

TEST_F(Cli, ProfilesReEvaluate) {
  auto good = write("t.cap", scenario().bytes());
  std::string out;
  ASSERT_EQ(run("report -f json --profile docker " + good, out), 0) << stderr_text();
  Json j = Json::parse(out);
  EXPECT_EQ(j["profile"]["name"], "docker");
  bool vanished = false;
  for (const auto& c : j["changes"]) vanished |= c["name"] == "CAP_NET_BIND_SERVICE" && c["kind"] == "vanished";
  EXPECT_TRUE(vanished);

  std::ofstream(dir_ / "p.conf") << "# docker-like\n-net/ipv4/ip_unprivileged_port_start = 100\n";
  ASSERT_EQ(run("report -f json -o " + (dir_ / "r.json").string() + " --sysctl-profile " + (dir_ / "p.conf").string() +
                    " " + good, out),
            0);
  std::ifstream in(dir_ / "r.json");
  Json r = Json::parse(in);
  EXPECT_EQ(r["profile"]["settings"][0]["target"], "100");

  // --profile-from: a trace recorded with the start at 0.
  TraceBuilder docker_host = synth();
  docker_host.sysctl("net.ipv4.ip_unprivileged_port_start", "0");
  auto other = write("other.cap", docker_host.bytes());
  ASSERT_EQ(run("report -f json --profile-from " + other + " " + good, out), 0) << stderr_text();
  j = Json::parse(out);
  EXPECT_FALSE(std::find(j["recommended"].begin(), j["recommended"].end(), "CAP_NET_BIND_SERVICE") != j["recommended"].end());
}

}  // namespace
}  // namespace capaudit::analyze::test
