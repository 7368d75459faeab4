// Denied-syscall outcomes of a daemon that drops root, recorded with the
// default options: the advisory overcommit denial every unprivileged process
// makes must not put the host on the slow syscall path, and a denial that
// matters still starts tracking. The daemon is tests/record/drop_daemon.c; the
// recorder's links are read from its /proc/PID/fdinfo while it records.
#include <dirent.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

const char* daemon_path() { return CAPAUDIT_DROP_DAEMON; }

// The raw-tracepoint names of the BPF links the process PID holds (its
// /proc/PID/fdinfo says "tp_name:" for each): what that recorder attached.
std::set<std::string> attached_tracepoints(pid_t pid) {
  std::set<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("tp_name:", 0) == 0) {
        auto v = line.substr(8);
        v.erase(0, v.find_first_not_of(" \t"));
        out.insert(v);
      }
  }
  closedir(d);
  return out;
}

uint64_t boottime_now() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct Watched {
  Recording rec;
  bool saw_cap_capable = false;  // the watch works: the capability hook's link was seen
  uint64_t sys_exit_seen_ns = 0;  // CLOCK_BOOTTIME (the trace's clock) of the first sighting, 0: never
};

// Records the daemon (DAEMON_ARGS) with EXTRA options, watching the recorder's links every 10 ms.
Watched record_watching(const std::vector<std::string>& extra, const std::vector<std::string>& daemon_args,
                        const std::string& tag) {
  Watched w;
  w.rec.path = temp_trace_path(tag);
  std::vector<std::string> args{recorder_path(), "--no-status", "-o", w.rec.path};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--", daemon_path()});
  args.insert(args.end(), daemon_args.begin(), daemon_args.end());
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  for (;;) {
    auto tps = attached_tracepoints(pid);
    w.saw_cap_capable |= tps.count("cap_capable") > 0;
    if (!w.sys_exit_seen_ns && tps.count("sys_exit")) w.sys_exit_seen_ns = boottime_now();
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  w.rec.run.status = status;
  w.rec.trace = load_trace(w.rec.path);
  return w;
}

// The worker: the process that is not the one the recorder started.
uint32_t worker_pid(const Trace& t) {
  for (const auto& f : t.forks)
    if (!f.is_thread && f.parent_pid == t.target_pid()) return f.child_pid;
  return 0;
}

std::vector<common::CapCheck> denied(const Trace& t, uint32_t pid, int cap, int nr) {
  std::vector<common::CapCheck> out;
  for (const auto& c : t.checks_of(cap))
    if (c.pid == pid && !c.granted && c.syscall_nr == nr) out.push_back(c);
  return out;
}

void expect_clean_run(const Watched& w) {
  ASSERT_EQ(w.rec.trace.read.status, common::ReadStatus::complete);
  ASSERT_TRUE(WIFEXITED(w.rec.run.status) && WEXITSTATUS(w.rec.run.status) == 0) << w.rec.run.status;
  ASSERT_TRUE(w.saw_cap_capable) << "the watch never saw the recorder's capability hook";
}

bool low_ports_privileged() {
  return std::stoi(read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start")) > 80;
}

// The advisory denial alone (no bind): the host-wide tracepoint never goes on.
TEST(Outcomes, ADaemonDroppingRootDoesNotPutTheHostOnTheSyscallExitPath) {
  CAPAUDIT_REQUIRE_ROOT();
  auto w = record_watching({}, {"1000", "0"}, "drop-daemon-noise");
  expect_clean_run(w);
  const auto& t = w.rec.trace;
  const uint32_t worker = worker_pid(t);
  ASSERT_NE(worker, 0u);
  // The advisory denial happened: CAP_SYS_ADMIN in mmap, as nobody.
  EXPECT_FALSE(denied(t, worker, CAP_SYS_ADMIN, SYS_mmap).empty());
  EXPECT_EQ(w.sys_exit_seen_ns, 0u) << "the syscall-exit tracepoint was attached";
  EXPECT_EQ(t.header.outcome_tracking, common::OutcomeTracking::from_first_denial);
  EXPECT_EQ(t.header.outcome_mechanism, common::OutcomeMechanism::sys_exit);
  EXPECT_NE(t.header.outcome_reason.find("noise catalogue"), std::string::npos) << t.header.outcome_reason;
  EXPECT_EQ(t.trailer.outcomes_from_ns, 0u);
}

// Then two binds of port 80: the first denial that matters starts tracking
// (after the noise, not at it), the second bind gets its outcome.
TEST(Outcomes, ADenialThatMattersStillStartsTrackingAndGetsItsOutcome) {
  CAPAUDIT_REQUIRE_ROOT();
  if (!low_ports_privileged()) GTEST_SKIP() << "ip_unprivileged_port_start lets nobody bind 80";
  auto w = record_watching({}, {"1000", "2"}, "drop-daemon-bind");
  expect_clean_run(w);
  const auto& t = w.rec.trace;
  const uint32_t worker = worker_pid(t);
  ASSERT_NE(worker, 0u);
  auto noise = denied(t, worker, CAP_SYS_ADMIN, SYS_mmap);
  auto binds = denied(t, worker, CAP_NET_BIND_SERVICE, SYS_bind);
  ASSERT_FALSE(noise.empty());
  ASSERT_EQ(binds.size(), 2u);
  ASSERT_NE(w.sys_exit_seen_ns, 0u);
  EXPECT_GT(w.sys_exit_seen_ns, binds[0].time_ns) << "attached before the first denial that matters";
  EXPECT_GT(t.trailer.outcomes_from_ns, binds[0].time_ns);
  EXPECT_LT(t.trailer.outcomes_from_ns, binds[1].time_ns);
  bool outcome = false;
  for (const auto& o : t.outcomes) outcome |= o.pid == worker && o.syscall_nr == SYS_bind && o.ret == -EACCES;
  EXPECT_TRUE(outcome);
  EXPECT_EQ(t.trailer.losses.outcomes_missed, 0u);
}

// Without call paths (--stacks-per-key 0) a hook without opts cannot tell the
// noise apart: the advisory denial starts tracking, and the watch sees it.
TEST(Outcomes, WithoutCallPathsTheNoiseStartsTrackingAndTheWatchSeesIt) {
  CAPAUDIT_REQUIRE_ROOT();
  auto w = record_watching({"--stacks-per-key", "0"}, {"1000", "0"}, "drop-daemon-nostacks");
  expect_clean_run(w);
  const auto& t = w.rec.trace;
  if (t.header.opts_available) GTEST_SKIP() << "a hook with opts tells the advisory denial by CAP_OPT_NOAUDIT";
  EXPECT_NE(w.sys_exit_seen_ns, 0u);
  EXPECT_NE(t.trailer.outcomes_from_ns, 0u);
  EXPECT_NE(t.header.outcome_reason.find("--stacks-per-key 0"), std::string::npos) << t.header.outcome_reason;
}

}  // namespace
}  // namespace capaudit::test
