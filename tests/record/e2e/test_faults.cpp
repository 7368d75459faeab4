// The traced program is never harmed by the recorder's own troubles or by the
// end of a recording: a full disk or a closed output detaches the command
// (exit 1, the trace marked incomplete), --duration ends only the recording
// unless --on-end says otherwise, and after SIGTERM the recorder waits --grace.
// Real recordings, as root.
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/scratch_dir.h"
#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;



// Waits until FILE has content (the detached command got that far).
bool wait_for_file(const fs::path& file, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (!slurp(file).empty()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

pid_t read_pid(const fs::path& file) {
  if (!wait_for_file(file, 10s)) return 0;
  return static_cast<pid_t>(std::stol(slurp(file)));
}

// A command that notes its pid, notes each SIGTERM and goes on, for ~20 s.
std::vector<std::string> stubborn(const fs::path& dir) {
  const std::string d = dir.string();
  return {"/bin/sh", "-c",
          "exec >/dev/null 2>&1; echo $$ > " + d + "/pid; trap 'echo TERM >> " + d +
              "/log' TERM; i=0; while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; echo END >> " + d + "/log"};
}

TEST(Faults, AFullDiskDetachesTheCommandAndMarksTheTraceIncomplete) {
  CAPAUDIT_REQUIRE_ROOT();
  const ScratchDir s("capaudit-faults");
  ASSERT_TRUE(s.ok());
  const fs::path disk = s.path() / "disk";
  fs::create_directory(disk);
  if (mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs: " << strerror(errno);
  struct Unmount {
    fs::path p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{disk};
  const fs::path done = s.path() / "done";
  // ~3000 execs make far more than 64 KiB of trace.
  const std::string loop = "exec >/dev/null 2>&1; i=0; while [ $i -lt 3000 ]; do /bin/true; i=$((i+1)); done; echo $i > " +
                           done.string();
  const fs::path out = disk / "t.cap";
  RunResult r = run_program({recorder_path(), "--no-status", "-o", out.string(), "--", "/bin/sh", "-c", loop});
  EXPECT_TRUE(WIFEXITED(r.status)) << "the recorder ended by itself, no signal";
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("keeps running, untraced"), std::string::npos) << r.err;
  // The command was neither killed nor stopped: it finishes its 3000 execs.
  ASSERT_TRUE(wait_for_file(done, 120s)) << r.err;
  EXPECT_EQ(slurp(done), "3000\n");
  Trace t = load_trace(out.string());
  EXPECT_NE(t.read.status, common::ReadStatus::corrupt) << t.read.message;
  EXPECT_NE(t.read.status, common::ReadStatus::error) << t.read.message;
  EXPECT_FALSE(t.execs.empty()) << "what fitted is readable";
  if (t.read.has_trailer) {
    EXPECT_FALSE(t.trailer.clean_shutdown);
    EXPECT_NE(t.trailer.stop_reason.find("No space left on device"), std::string::npos) << t.trailer.stop_reason;
    EXPECT_NE(t.trailer.stop_reason.find("detached"), std::string::npos) << t.trailer.stop_reason;
    EXPECT_EQ(t.trailer.counts.execs, t.execs.size()) << "the trailer counts what is in the file";
  } else {
    EXPECT_EQ(t.read.status, common::ReadStatus::truncated);
  }
}

// -o - into a reader that goes away: a message and exit 1, not a silent SIGPIPE.
TEST(Faults, AClosedOutputPipeIsSaidAndExits1) {
  CAPAUDIT_REQUIRE_ROOT();
  int out[2], err[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
  const std::vector<std::string> argv{recorder_path(), "--no-status", "-o", "-", "--", "/bin/sh", "-c",
                                      "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done; sleep 2"};
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);  // as a shell pipeline would give it
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  char buf[100];
  size_t got = 0;  // like head -c 100
  while (got < sizeof buf) {
    ssize_t n = read(out[0], buf + got, sizeof buf - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(out[0]);
  std::string errors;
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) errors.append(buf, static_cast<size_t>(n));
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(got, sizeof buf);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << ": " << errors;
  EXPECT_EQ(WEXITSTATUS(status), 1) << errors;
  EXPECT_NE(errors.find("Broken pipe"), std::string::npos) << errors;
  EXPECT_NE(errors.find("closed its end"), std::string::npos) << errors;
  EXPECT_NE(errors.find("no trailer"), std::string::npos) << "the trailer was tried: " << errors;
}

// With -o - the command's own stdout must not end up inside the trace.
TEST(Faults, WithTraceOnStdoutTheCommandsOutputGoesToStderr) {
  CAPAUDIT_REQUIRE_ROOT();
  RunResult r = run_program({recorder_path(), "--no-status", "-o", "-", "--", "/bin/echo", "MARKER-ON-STDOUT"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out.find("MARKER-ON-STDOUT"), std::string::npos);
  EXPECT_NE(r.err.find("MARKER-ON-STDOUT"), std::string::npos) << r.err;
  Trace t;
  auto read = common::read_trace_bytes({reinterpret_cast<const uint8_t*>(r.out.data()), r.out.size()}, t);
  EXPECT_EQ(read.status, common::ReadStatus::complete) << read.message;
}

TEST(Faults, DurationEndsTheRecordingAndTheCommandRunsOnByDefault) {
  CAPAUDIT_REQUIRE_ROOT();
  const ScratchDir s("capaudit-faults");
  const std::string out = (s.path() / "t.cap").string();
  std::vector<std::string> argv{recorder_path(), "--no-status", "-o", out, "--duration", "1s", "--"};
  for (const auto& a : stubborn(s.path())) argv.push_back(a);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run_program(argv);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.err.find("runs on, untraced"), std::string::npos) << r.err;
  const pid_t cmd = read_pid(s.path() / "pid");
  EXPECT_TRUE(alive(cmd)) << "the command was not signalled";
  EXPECT_EQ(slurp(s.path() / "log"), "") << "no SIGTERM either";
  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  EXPECT_TRUE(t.trailer.clean_shutdown);
  EXPECT_EQ(t.trailer.stop_reason.rfind("duration", 0), 0u) << t.trailer.stop_reason;
  EXPECT_NE(t.trailer.stop_reason.find("detached"), std::string::npos) << t.trailer.stop_reason;
  EXPECT_FALSE(t.trailer.target_exit_status.has_value());
  if (cmd > 0) kill(cmd, SIGKILL);
}

TEST(Faults, OnEndTermSendsSigtermThenSigkillAfterTheGrace) {
  CAPAUDIT_REQUIRE_ROOT();
  const ScratchDir s("capaudit-faults");
  const std::string out = (s.path() / "t.cap").string();
  std::vector<std::string> argv{recorder_path(), "--no-status", "-o", out, "--duration", "1s", "--on-end", "term",
                                "--grace", "1s", "--"};
  for (const auto& a : stubborn(s.path())) argv.push_back(a);
  RunResult r = run_program(argv);
  // The command traps SIGTERM and goes on, so the grace runs out: SIGKILL.
  EXPECT_EQ(r.exit_code(), 128 + SIGKILL) << r.err;
  EXPECT_NE(r.err.find("SIGTERM sent to the command"), std::string::npos) << r.err;
  EXPECT_NE(slurp(s.path() / "log").find("TERM"), std::string::npos) << "SIGTERM came first";
  const pid_t cmd = read_pid(s.path() / "pid");
  EXPECT_FALSE(alive(cmd));
  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  ASSERT_TRUE(t.trailer.target_exit_status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*t.trailer.target_exit_status) && WTERMSIG(*t.trailer.target_exit_status) == SIGKILL);
  bool exit_recorded = false;
  for (const auto& e : t.exits) exit_recorded |= e.pid == static_cast<uint32_t>(cmd);
  EXPECT_TRUE(exit_recorded) << "the kill happened while still recording";
}

TEST(Faults, OnEndKillSendsOnlySigkill) {
  CAPAUDIT_REQUIRE_ROOT();
  const ScratchDir s("capaudit-faults");
  const std::string out = (s.path() / "t.cap").string();
  std::vector<std::string> argv{recorder_path(), "--no-status", "-o", out, "--duration", "1s", "--on-end", "kill", "--"};
  for (const auto& a : stubborn(s.path())) argv.push_back(a);
  RunResult r = run_program(argv);
  EXPECT_EQ(r.exit_code(), 128 + SIGKILL) << r.err;
  EXPECT_EQ(slurp(s.path() / "log"), "");
  EXPECT_FALSE(alive(read_pid(s.path() / "pid")));
}

// SIGTERM to the recorder reaches the command; one that ignores it is given
// --grace, then left running (default) or killed (--on-end kill).
TEST(Faults, AfterSigtermTheGraceIsAnOptionAndTheDefaultLeavesTheCommand) {
  CAPAUDIT_REQUIRE_ROOT();
  for (const bool kill_it : {false, true}) {
    const ScratchDir s("capaudit-faults");
    const std::string out = (s.path() / "t.cap").string();
    std::vector<std::string> argv{recorder_path(), "--no-status", "-o", out, "--grace", "500ms"};
    if (kill_it) argv.insert(argv.end(), {"--on-end", "kill"});
    argv.push_back("--");
    for (const auto& a : stubborn(s.path())) argv.push_back(a);
    const pid_t rec = spawn_quiet(argv);
    ASSERT_GE(rec, 0);
    const pid_t cmd = read_pid(s.path() / "pid");
    ASSERT_GT(cmd, 0);
    const auto start = std::chrono::steady_clock::now();
    kill(rec, SIGTERM);
    int st = 0;
    waitpid(rec, &st, 0);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 400ms) << "waited for the command";
    EXPECT_LT(took, 3s) << "--grace 500ms, not the old fixed 3 s";
    EXPECT_TRUE(WIFEXITED(st));
    EXPECT_NE(slurp(s.path() / "log").find("TERM"), std::string::npos) << "the SIGTERM was passed on";
    EXPECT_EQ(alive(cmd), !kill_it) << (kill_it ? "--on-end kill" : "default detach");
    Trace t = load_trace(out);
    EXPECT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
    EXPECT_NE(t.trailer.stop_reason.find("SIGTERM"), std::string::npos) << t.trailer.stop_reason;
    if (alive(cmd)) kill(cmd, SIGKILL);
  }
}

}  // namespace
}  // namespace capaudit::test

namespace capaudit::test {
namespace {

bool become_nobody() {
  return setgroups(0, nullptr) == 0 && setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0;
}

// A copy of the recorder made setuid-root, or given cap_bpf,cap_perfmon as
// file capabilities, is refused before it does anything: run by nobody it
// would record the host and create files in root-only directories.
TEST(Install, AnElevatedCopyRunByNobodyIsRefusedAndCreatesNothing) {
  CAPAUDIT_REQUIRE_ROOT();
  const ScratchDir s("capaudit-faults");
  ASSERT_TRUE(s.ok());
  chmod(s.path().c_str(), 0755);
  struct statvfs vfs {};
  ASSERT_EQ(statvfs(s.path().c_str(), &vfs), 0);
  if (vfs.f_flag & ST_NOSUID) GTEST_SKIP() << s.path() << " is mounted nosuid";
  const fs::path private_dir = s.path() / "root-only";
  fs::create_directory(private_dir);
  chmod(private_dir.c_str(), 0700);

  const fs::path suid = s.path() / "capaudit-record-suid";
  fs::copy_file(recorder_path(), suid);
  ASSERT_EQ(chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(suid.c_str(), 04755), 0);

  const fs::path filecaps = s.path() / "capaudit-record-caps";
  fs::copy_file(recorder_path(), filecaps);
  chmod(filecaps.c_str(), 0755);
  vfs_cap_data caps{};
  caps.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  caps.data[CAP_BPF / 32].permitted |= 1u << (CAP_BPF % 32);
  caps.data[CAP_PERFMON / 32].permitted |= 1u << (CAP_PERFMON % 32);
  ASSERT_EQ(setxattr(filecaps.c_str(), "security.capability", &caps, XATTR_CAPS_SZ_2, 0), 0) << strerror(errno);

  RunOptions as_nobody;
  as_nobody.before_exec = become_nobody;
  for (const auto& [copy, says] : {std::pair{suid, "setuid"}, std::pair{filecaps, "file capabilities"}}) {
    const fs::path out = private_dir / (copy.filename().string() + ".cap");
    RunResult r = run_program({copy.string(), "--no-status", "-o", out.string(), "--", "/bin/true"}, as_nobody);
    EXPECT_EQ(r.exit_code(), 1) << copy << ": " << r.err;
    EXPECT_NE(r.err.find("refusing to run"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("setcap"), std::string::npos) << "no hint to make such a copy: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << copy << " created a file in a root-only directory";
    // --help too: nothing at all runs.
    RunResult help = run_program({copy.string(), "--help"}, as_nobody);
    EXPECT_EQ(help.exit_code(), 1) << help.out;
  }
  EXPECT_TRUE(fs::is_empty(private_dir));
}

}  // namespace
}  // namespace capaudit::test
