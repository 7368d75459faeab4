// The `capaudit -- CMD` front command. The pipeline (record as root, hand the
// trace over, analyze unprivileged, print report + configs) is tested with a
// stand-in recorder that writes a synthetic trace, so it does not depend on
// BPF; the real end-to-end run is in FrontEndToEnd below. Needs root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "tests/support/cli_traces.h"
#include "tests/support/run_command.h"

namespace capaudit::test {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Front : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the front command drops to another uid";
    scratch_ = std::make_unique<capaudit::test::ScratchDir>("capaudit-front", 0755);
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
    // capaudit finds its tools next to itself: a copy with stand-ins beside it.
    fs::copy_file(CAPAUDIT_FRONT, dir_ / "capaudit");
    fs::copy_file(CAPAUDIT_ANALYZE, dir_ / "capaudit-analyze.real");
    write_bytes((dir_ / "webd.cap").string(), webd_trace(false));
    chmod((dir_ / "webd.cap").c_str(), 0644);
    // The recorder stand-in notes who ran it and copies the trace to -o.
    script("capaudit-record",
           "#!/bin/sh\necho \"recorder uid=$(id -u) args=$*\" >&2\n"
           "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n"
           "cp " + (dir_ / "webd.cap").string() + " \"$out\"\n");
    // The analyzer wrapper shows its credentials, then runs the real one.
    script("capaudit-analyze",
           "#!/bin/sh\necho \"analyzer uid=$(id -u) gid=$(id -g) $(grep NoNewPrivs /proc/self/status | tr -d '\\t')\"\n"
           "exec " + (dir_ / "capaudit-analyze.real").string() + " \"$@\"\n");
    chmod((dir_ / "capaudit").c_str(), 0755);
    chmod((dir_ / "capaudit-analyze.real").c_str(), 0755);
  }
  void script(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    chmod((dir_ / name).c_str(), 0755);
  }
  std::unique_ptr<capaudit::test::ScratchDir> scratch_;
  fs::path dir_;
};

TEST_F(Front, RecordsAsRootAnalyzesAsTheSudoUserAndPrintsConfigs) {
  const Ran r = run("env SUDO_UID=4321 SUDO_GID=4322 " + (dir_ / "capaudit").string() + " -- /usr/sbin/webd -x");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("recorder uid=0 args=-o "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-- /usr/sbin/webd -x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("analyzer uid=4321 gid=4322 NoNewPrivs:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Recommended configurations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapabilityBoundingSet=CAP_CHOWN CAP_NET_BIND_SERVICE"), std::string::npos) << r.out;
}

TEST_F(Front, WithoutSudoTheAnalysisRunsAsNobodyAndTheTraceCanBeKept) {
  const fs::path kept = dir_ / "kept.cap";
  const Ran r = run("env -u SUDO_UID -u SUDO_GID " + (dir_ / "capaudit").string() + " --keep " + kept.string() +
                    " -f json -- /usr/sbin/webd");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("analyzer uid=65534 gid=65534 NoNewPrivs:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"schema_version\""), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(lstat(kept.c_str(), &st), 0) << r.out;
  EXPECT_EQ(st.st_uid, 0u) << "kept for root, who asked (nobody only analyzed)";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(read_bytes(kept.string()) == read_bytes((dir_ / "webd.cap").string()));
  // The temporary directory the recorder wrote into is gone afterwards.
  const size_t at = r.out.find("args=-o ");
  ASSERT_NE(at, std::string::npos);
  const std::string trace = r.out.substr(at + 8, r.out.find(' ', at + 8) - at - 8);
  EXPECT_EQ(trace.rfind("/tmp/capaudit-", 0), 0u) << trace;
  EXPECT_FALSE(fs::exists(fs::path(trace).parent_path())) << trace;
}

TEST_F(Front, UnderSudoTheKeptTraceBelongsToTheSudoUser) {
  const fs::path kept = dir_ / "kept.cap";
  const Ran r = run("env SUDO_UID=4321 SUDO_GID=4322 " + (dir_ / "capaudit").string() + " --keep " + kept.string() +
                    " -- /usr/sbin/webd");
  ASSERT_EQ(r.status, 0) << r.out;
  struct stat st {};
  ASSERT_EQ(lstat(kept.c_str(), &st), 0) << r.out;
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 4322u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Never over an existing file or link: refused before recording.
  const Ran again = run("env SUDO_UID=4321 SUDO_GID=4322 " + (dir_ / "capaudit").string() + " --keep " +
                        kept.string() + " -- /usr/sbin/webd");
  EXPECT_EQ(again.status, 1) << again.out;
  EXPECT_EQ(again.out.find("recorder uid="), std::string::npos) << again.out;
}

// issue 14 item 2: the analysis account must not be able to make root copy
// (--keep) a root-only file. The analyzer, as nobody, tries to swap trace.cap
// for a symlink to a secret at the moment it runs (deterministic), and a
// helper the "traced program" left behind as nobody keeps trying too. Root
// hands the trace over as an open file (stdin) and keeps it from its own
// descriptor, in a directory nobody can enter: the kept file is the trace.
TEST_F(Front, NobodyCannotMakeRootKeepAnotherFile) {
  const fs::path secret_dir = dir_ / "root-only";
  fs::create_directory(secret_dir);
  chmod(secret_dir.c_str(), 0700);
  const fs::path secret = secret_dir / "secret";
  std::ofstream(secret) << "TOP-SECRET-14\n";
  chmod(secret.c_str(), 0600);
  // The trace's path: the analyzer's argument (a path) or what its stdin is.
  const std::string plant =
      "t=; for a in \"$@\"; do t=$a; done; [ \"$t\" = - ] && t=$(readlink /proc/self/fd/0)\n"
      "if { rm -f \"$t\" && ln -s " + secret.string() + " \"$t\"; } 2>/dev/null; then echo 'attack: planted'; "
      "else echo 'attack: refused'; fi\n";
  script("capaudit-analyze",
         "#!/bin/sh\n" + plant +
         "echo \"stdin: $(readlink /proc/self/fd/0)\"\n"
         "exec " + (dir_ / "capaudit-analyze.real").string() + " \"$@\"\n");
  const fs::path kept = dir_ / "kept.cap";
  Ran r = run("env -u SUDO_UID -u SUDO_GID " + (dir_ / "capaudit").string() + " --keep " + kept.string() +
              " -- /usr/sbin/webd");
  EXPECT_NE(r.out.find("attack: refused"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/trace.cap\n"), std::string::npos) << "the trace arrives on stdin: " << r.out;
  EXPECT_NE(r.out.find("stdin: /tmp/capaudit-"), std::string::npos) << "the trace arrives on stdin: " << r.out;
  EXPECT_TRUE(read_bytes(kept.string()) == read_bytes((dir_ / "webd.cap").string())) << r.out;
  EXPECT_EQ(read_bytes(kept.string()).find("TOP-SECRET"), std::string::npos);

  // A helper left running as nobody by the recorded program, trying the
  // same for two seconds while the analysis runs.
  script("capaudit-analyze", "#!/bin/sh\nsleep 1\nexec " + (dir_ / "capaudit-analyze.real").string() + " \"$@\"\n");
  script("capaudit-record",
         "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n"
         "cp " + (dir_ / "webd.cap").string() + " \"$out\"\n"
         "setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'i=0; while [ $i -lt 200 ]; do "
         "{ rm -f \"$0\" && ln -s " + secret.string() + " \"$0\" && echo helper: planted; } 2>/dev/null; "
         "sleep 0.01; i=$((i+1)); done' \"$out\" >" + (dir_ / "helper.log").string() + " 2>&1 &\n");
  fs::remove(kept);
  r = run("env -u SUDO_UID -u SUDO_GID " + (dir_ / "capaudit").string() + " --keep " + kept.string() +
          " -- /usr/sbin/webd");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(read_bytes(kept.string()) == read_bytes((dir_ / "webd.cap").string())) << r.out;
  sleep(3);
  std::ifstream log(dir_ / "helper.log");
  std::string helper((std::istreambuf_iterator<char>(log)), {});
  EXPECT_EQ(helper.find("planted"), std::string::npos) << helper;
}

// A setuid copy of the front command is refused: run by nobody it would
// record as root and create --keep files in root-only directories.
TEST_F(Front, ASetuidCopyIsRefusedAndCreatesNothing) {
  chmod(dir_.c_str(), 0755);
  ASSERT_EQ(chmod((dir_ / "capaudit").c_str(), 04755), 0);
  const fs::path private_dir = dir_ / "root-only";
  fs::create_directory(private_dir);
  chmod(private_dir.c_str(), 0700);
  const Ran r = run("setpriv --reuid=65534 --regid=65534 --clear-groups " + (dir_ / "capaudit").string() +
                    " --keep " + (private_dir / "x.cap").string() + " -- /usr/sbin/webd");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("refusing to run"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("recorder uid="), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(private_dir));
}

TEST_F(Front, SudoByRootItselfStillDoesNotAnalyzeAsRoot) {
  const Ran r = run("env SUDO_UID=0 SUDO_GID=0 " + (dir_ / "capaudit").string() + " -- /usr/sbin/webd");
  EXPECT_NE(r.out.find("analyzer uid=65534"), std::string::npos) << r.out;
}

TEST_F(Front, UsageAndRecorderFailures) {
  EXPECT_EQ(run((dir_ / "capaudit").string()).status, 2);
  EXPECT_EQ(run((dir_ / "capaudit").string() + " --bogus -- true").status, 2);
  // The command without "--": say how to write it.
  const Ran forgot = run((dir_ / "capaudit").string() + " true");
  EXPECT_EQ(forgot.status, 2) << forgot.out;
  EXPECT_NE(forgot.out.find("hint: sudo capaudit -- true"), std::string::npos) << forgot.out;
  script("capaudit-record", "#!/bin/sh\necho 'capaudit-record: missing CAP_BPF' >&2\nexit 1\n");
  const Ran r = run((dir_ / "capaudit").string() + " -- /bin/true");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no trace was recorded"), std::string::npos) << r.out;
}

// The real thing: capaudit-record traces the helper binding a low port, the
// analysis runs as nobody, and the configs recommend the capability.
TEST(FrontEndToEnd, RecordsARealCommandAndRecommendsWhatItNeeded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 900 + getpid() % 100;
  if (start <= port) GTEST_SKIP() << "ip_unprivileged_port_start=" << start << ": binding needs no capability";
  const Ran r = run(std::string("env -u SUDO_UID -u SUDO_GID ") + CAPAUDIT_FRONT + " -v --config systemd,setcap -- " +
                    CAPAUDIT_TEST_HELPER + " bind-tcp4-80 " + std::to_string(port));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("analyzing as uid 65534"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nVerdict: grant CAP_NET_BIND_SERVICE\n"), std::string::npos) << r.out;
  const size_t line = r.out.find("\nCapabilityBoundingSet=");
  ASSERT_NE(line, std::string::npos) << r.out;
  const std::string bounding = r.out.substr(line + 1, r.out.find('\n', line + 1) - line - 1);
  EXPECT_NE(bounding.find("CAP_NET_BIND_SERVICE"), std::string::npos) << bounding;
  EXPECT_NE(r.out.find("=ep " + std::string(CAPAUDIT_TEST_HELPER)), std::string::npos) << r.out;
}

// The same real recording (a bind below the host's ip_unprivileged_port_start,
// as root), through config: systemd, setcap and podman keep
// NET_BIND_SERVICE; docker, compose and kubernetes, evaluated under the
// docker profile (port start 0 in the container), drop it; --profile host
// brings it back for docker.
TEST(FrontEndToEnd, ARealLowPortBindIsConfiguredPerRuntime) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 900 + (getpid() + 50) % 100;
  if (start <= port) GTEST_SKIP() << "ip_unprivileged_port_start=" << start << ": binding needs no capability";
  ScratchDir dir("capaudit-runtime-e2e", 0755);
  ASSERT_TRUE(dir.ok());
  const std::string trace = (dir.path() / "bind.cap").string();
  Ran r = run(std::string("env -u SUDO_UID -u SUDO_GID ") + CAPAUDIT_FRONT + " --keep " + trace + " --config none -- " +
              CAPAUDIT_TEST_HELPER + " bind-tcp4-80 " + std::to_string(port));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string analyze = std::string(CAPAUDIT_ANALYZE) + " config --config ";
  r = run(analyze + "systemd " + trace);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"), std::string::npos) << r.out;
  r = run(analyze + "setcap " + trace);
  EXPECT_NE(r.out.find("setcap cap_net_bind_service=ep"), std::string::npos) << r.out;
  r = run(analyze + "podman " + trace);
  EXPECT_NE(r.out.find("--cap-add=NET_BIND_SERVICE"), std::string::npos) << r.out;
  for (const char* f : {"docker", "compose", "kubernetes"}) {
    r = run(analyze + f + " " + trace);
    ASSERT_EQ(r.status, 0) << f << "\n" << r.out;
    EXPECT_EQ(r.out.find("NET_BIND_SERVICE\n"), std::string::npos) << f << "\n" << r.out;
    EXPECT_EQ(r.out.find("--cap-add=NET_BIND_SERVICE"), std::string::npos) << f << "\n" << r.out;
    EXPECT_NE(r.out.find("# Evaluated under the docker profile"), std::string::npos) << f << "\n" << r.out;
  }
  r = run(analyze + "docker --profile host " + trace);
  EXPECT_NE(r.out.find("--cap-add=NET_BIND_SERVICE"), std::string::npos) << r.out;
}

// The verdict on real runs, and the exit status that goes with it (README:
// 0 a run that worked, 4 a run that failed, whatever the reason).
class FrontVerdict : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
    scratch_ = std::make_unique<ScratchDir>("capaudit-verdict", 0755);
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
  }
  Ran front(const std::string& args) {
    return run(std::string("cd ") + dir_.string() + " && env -u SUDO_UID -u SUDO_GID " + CAPAUDIT_FRONT + " " + args);
  }
  static size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }
  std::unique_ptr<ScratchDir> scratch_;
  fs::path dir_;
};

TEST_F(FrontVerdict, ASuccessfulRunNamesExactlyTheNeededSetInFewLines) {
  const fs::path file = dir_ / "owned";
  std::ofstream(file) << "x";
  const Ran r = front("-- chown 65534 " + file.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\nVerdict: grant CAP_CHOWN\n  /usr/bin/chown\n    CAP_CHOWN "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Trust: the command exited 0; recording complete; nothing was denied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapabilityBoundingSet=CAP_CHOWN\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("WARNING"), std::string::npos) << r.out;
  // The whole default output, the front command's own lines included.
  EXPECT_LE(lines(r.out), 40u) << r.out;
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

TEST_F(FrontVerdict, AMissingCommandIsAFailedRun) {
  const Ran r = front("-- /nonexistent/no-such-command");
  EXPECT_EQ(r.status, 4) << r.out;
  const size_t verdict = r.out.find("Verdict: THE RUN FAILED");
  ASSERT_NE(verdict, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("! the command did not start", verdict), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# WARNING: the recorded run failed"), std::string::npos) << r.out;
}

TEST_F(FrontVerdict, AFailingCommandIsAFailedRun) {
  const Ran r = front("-- ls /nonexistent");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("Verdict: THE RUN FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("! the command exited with status 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# WARNING:   the command exited with status 2"), std::string::npos) << r.out;
}

TEST_F(FrontVerdict, ADeniedOperationIsAFailedRunAndItsConfigsSaySo) {
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 900 + (getpid() + 25) % 100;
  if (start <= port) GTEST_SKIP() << "ip_unprivileged_port_start=" << start << ": binding needs no capability";
  // As nobody the bind is refused: the helper exits 1 and the denial failed.
  const Ran r = front(std::string("--user nobody --config docker -- ") + CAPAUDIT_TEST_HELPER + " bind-tcp4-80 " +
                      std::to_string(port));
  EXPECT_EQ(r.status, 4) << r.out;
  const size_t verdict = r.out.find("Verdict: THE RUN FAILED");
  ASSERT_NE(verdict, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("! CAP_NET_BIND_SERVICE denied: bind failed (EPERM/EACCES)", verdict), std::string::npos)
      << r.out;
  const size_t docker = r.out.find("--- docker ---");
  ASSERT_NE(docker, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# WARNING:   CAP_NET_BIND_SERVICE denied", docker), std::string::npos) << r.out;
}

// The traced program's output stays on its streams; the report goes to
// stderr, or to -o FILE (created before the recording, never overwritten).
TEST_F(FrontVerdict, TheReportStaysApartFromTheProgramsOutput) {
  Ran r = run("cd " + dir_.string() + " && ( env -u SUDO_UID -u SUDO_GID " + CAPAUDIT_FRONT +
              " -- echo from-the-program 2>/dev/null )");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "from-the-program\n");
  const fs::path report = dir_ / "report.txt";
  r = front("-o " + report.string() + " -- echo from-the-program");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "from-the-program\n");
  std::ifstream in(report);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(text.find("\nVerdict: no capability needed\n"), std::string::npos) << text;
  struct stat st {};
  ASSERT_EQ(stat(report.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  // An existing -o or --keep is refused before anything runs.
  const fs::path marker = dir_ / "ran";
  r = front("-o " + report.string() + " -- touch " + marker.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("File exists"), std::string::npos) << r.out;
  r = front("--keep " + report.string() + " -- touch " + marker.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(FrontVerdict, TheReportNamesTheKeptTrace) {
  const fs::path kept = dir_ / "kept.cap";
  Ran r = front("--keep " + kept.string() + " -- true");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("run1 " + kept.string() + " "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/trace.cap"), std::string::npos) << r.out;  // not the deleted temporary copy
  EXPECT_TRUE(fs::exists(kept));
  r = front("-- true");
  EXPECT_NE(r.out.find("run1 (not kept: --keep FILE keeps it)"), std::string::npos) << r.out;
}

// --service: the unit's ExecStart= runs as its non-root User= with its ambient
// capabilities; check --against the same unit then flags what it grants in vain.
TEST(ServiceModeEndToEnd, RecordsAUnitAsSystemdStartsItAndChecksAgainstIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 900 + (getpid() + 50) % 100;
  if (start <= port) GTEST_SKIP() << "ip_unprivileged_port_start=" << start << ": binding needs no capability";
  ScratchDir dir("capaudit-service-e2e", 0755);
  ASSERT_TRUE(dir.ok());
  const fs::path helper = dir.path() / "helper";
  fs::copy_file(CAPAUDIT_TEST_HELPER, helper);
  const fs::path unit = dir.path() / "demo.service";
  std::ofstream(unit) << "[Service]\nExecStart=" << helper.string() << " bind-tcp4-80 " << port
                      << "\nUser=65534\nGroup=65534\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\n"
                         "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_CHOWN\nNoNewPrivileges=yes\n";
  const fs::path trace = dir.path() / "demo.cap";
  const Ran rec = run(std::string(CAPAUDIT_RECORD) + " -o " + trace.string() + " --service " + unit.string());
  ASSERT_EQ(rec.status, 0) << rec.out;
  EXPECT_NE(rec.out.find("ok bind-tcp4-80"), std::string::npos) << rec.out;

  const std::string check = std::string(CAPAUDIT_ANALYZE) + " check " + trace.string() + " --against " + unit.string();
  Ran r = run(check);
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("missing:  (none)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("excess:   CAP_CHOWN"), std::string::npos) << r.out;
  r = run(check + " --allow-excess");
  EXPECT_EQ(r.status, 0) << r.out;

  // A '+' unit is refused before anything runs.
  std::ofstream(unit) << "[Service]\nExecStart=+" << helper.string() << " bind-tcp4-80\n";
  const Ran plus = run(std::string(CAPAUDIT_RECORD) + " -o " + (dir.path() / "plus.cap").string() + " --service " +
                       unit.string());
  EXPECT_EQ(plus.status, 2) << plus.out;
  EXPECT_FALSE(fs::exists(dir.path() / "plus.cap"));
}

}  // namespace
}  // namespace capaudit::test
