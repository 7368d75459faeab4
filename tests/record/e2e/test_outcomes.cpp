// Denied-syscall outcomes of a daemon that drops root, recorded with the
// default options: the advisory overcommit denial every unprivileged process
// makes must not put the host on the slow syscall path, and a denial that
// matters still starts tracking. The daemon is tests/record/drop_daemon.c; the
// recorder's links are read from its /proc/PID/fdinfo while it records.
#include <dirent.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <chrono>
#include <map>
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

// The stdout of a program (ARGS[0] is its path).
std::string capture(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    pclose(p);
  }
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
  // Every change of "sys_exit attached" the watch saw: (CLOCK_BOOTTIME, attached).
  std::vector<std::pair<uint64_t, bool>> sys_exit_changes;
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
    const bool on = tps.count("sys_exit") > 0;
    if (!w.sys_exit_seen_ns && on) w.sys_exit_seen_ns = boottime_now();
    if (w.saw_cap_capable && (w.sys_exit_changes.empty() ? on : w.sys_exit_changes.back().second != on))
      w.sys_exit_changes.emplace_back(boottime_now(), on);
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
  EXPECT_EQ(t.header.outcome_tracking, common::OutcomeTracking::in_windows);
  EXPECT_EQ(t.header.outcome_window_ns, 1'000'000'000u);
  EXPECT_EQ(t.trailer.outcome_windows, 0u);
  EXPECT_EQ(t.header.outcome_mechanism, common::OutcomeMechanism::sys_exit);
  EXPECT_NE(t.header.outcome_reason.find("noise catalogue"), std::string::npos) << t.header.outcome_reason;
  EXPECT_EQ(t.trailer.outcomes_from_ns, 0u);
}

// Then two binds of port 80: the first denial that matters starts tracking
// (after the noise, not at it), the second bind gets its outcome. The window
// is longer than the pause between them.
TEST(Outcomes, ADenialThatMattersStillStartsTrackingAndGetsItsOutcome) {
  CAPAUDIT_REQUIRE_ROOT();
  if (!low_ports_privileged()) GTEST_SKIP() << "ip_unprivileged_port_start lets nobody bind 80";
  auto w = record_watching({"--outcome-window", "20s"}, {"1000", "2"}, "drop-daemon-bind");
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

// The windows of tracepoint time: a denial that matters attaches it, a quiet
// time detaches it again, the next denial re-attaches it and gets the
// outcome of the one after it. Two groups of two binds, 3 s apart, with a 1 s
// window (the default). Seen three ways: the recorder's links (fdinfo), the
// windows in the trace, and the analyzer's reading of them.
TEST(Outcomes, AQuietTimeDetachesTheTracepointAndTheNextDenialReattachesIt) {
  CAPAUDIT_REQUIRE_ROOT();
  if (!low_ports_privileged()) GTEST_SKIP() << "ip_unprivileged_port_start lets nobody bind 80";
  auto w = record_watching({}, {"200", "2", "3000", "2"}, "drop-daemon-windows");
  expect_clean_run(w);
  const auto& t = w.rec.trace;
  const uint32_t worker = worker_pid(t);
  ASSERT_NE(worker, 0u);
  auto binds = denied(t, worker, CAP_NET_BIND_SERVICE, SYS_bind);
  ASSERT_EQ(binds.size(), 4u);
  EXPECT_EQ(t.header.outcome_tracking, common::OutcomeTracking::in_windows);

  // fdinfo: on, off, on, off — detached during the idle time between the groups.
  ASSERT_GE(w.sys_exit_changes.size(), 3u);
  EXPECT_TRUE(w.sys_exit_changes[0].second);
  EXPECT_FALSE(w.sys_exit_changes[1].second);
  EXPECT_TRUE(w.sys_exit_changes[2].second);
  EXPECT_GT(w.sys_exit_changes[1].first, binds[1].time_ns) << "detached before the second bind";
  EXPECT_LT(w.sys_exit_changes[1].first, binds[2].time_ns) << "not detached in the idle time";
  EXPECT_GT(w.sys_exit_changes[2].first, binds[2].time_ns) << "re-attached only on a denial";

  // The trace: each window's last record, by start.
  std::map<uint64_t, common::OutcomeWindow> windows;
  for (const auto& win : t.windows) windows[win.start_ns] = win;
  ASSERT_EQ(windows.size(), 2u);
  const auto first = windows.begin()->second, second = std::next(windows.begin())->second;
  EXPECT_EQ(first.trigger_tid, binds[0].tid);
  EXPECT_EQ(first.trigger_time_ns, binds[0].time_ns);
  EXPECT_EQ(first.trigger_cap, CAP_NET_BIND_SERVICE);
  EXPECT_EQ(first.trigger_syscall, SYS_bind);
  EXPECT_EQ(first.closed_by, common::WindowEnd::quiet);
  EXPECT_EQ(first.denials, 1u);
  EXPECT_GT(first.start_ns, binds[0].time_ns);
  EXPECT_LT(first.start_ns, binds[1].time_ns);
  // closed a window length after the last denial in it, give or take the poll
  EXPECT_GE(first.end_ns, binds[1].time_ns + 1'000'000'000u);
  EXPECT_LT(first.end_ns, binds[2].time_ns);
  EXPECT_EQ(second.trigger_time_ns, binds[2].time_ns);
  EXPECT_GT(second.start_ns, binds[2].time_ns);
  EXPECT_LT(second.start_ns, binds[3].time_ns);
  EXPECT_NE(second.closed_by, common::WindowEnd::open);
  EXPECT_EQ(t.trailer.outcome_windows, 2u);
  EXPECT_EQ(t.trailer.outcome_windows_ns, (first.end_ns - first.start_ns) + (second.end_ns - second.start_ns));
  EXPECT_EQ(t.trailer.outcomes_from_ns, first.start_ns);

  // The outcomes: the second bind of each group, -EACCES, inside its window.
  std::vector<common::SyscallOutcome> bind_outcomes;
  for (const auto& o : t.outcomes)
    if (o.pid == worker && o.syscall_nr == SYS_bind) bind_outcomes.push_back(o);
  ASSERT_EQ(bind_outcomes.size(), 2u);
  EXPECT_EQ(bind_outcomes[0].ret, -EACCES);
  EXPECT_EQ(bind_outcomes[1].ret, -EACCES);
  EXPECT_GT(bind_outcomes[1].time_ns, second.start_ns) << "the re-attached window's outcome";
  EXPECT_EQ(t.trailer.losses.outcomes_missed, 0u);

#ifdef CAPAUDIT_ANALYZE_BIN
  // The analyzer: info lists the windows; the report counts the two binds
  // outside them (the triggers) as "outcome not recorded".
  const std::string info = capture({CAPAUDIT_ANALYZE_BIN, "info", w.rec.path});
  EXPECT_NE(info.find("outcome windows: 2"), std::string::npos) << info;
  EXPECT_NE(info.find("closed: quiet"), std::string::npos) << info;
  // dump: each window's open and close records, with the denial that opened it.
  const std::string dump = capture({CAPAUDIT_ANALYZE_BIN, "dump", "-k", "window", w.rec.path});
  size_t opened = 0, closed = 0;
  for (size_t at = 0; (at = dump.find(" window opened ", at)) != std::string::npos; ++at) ++opened;
  for (size_t at = 0; (at = dump.find(" window closed ", at)) != std::string::npos; ++at) ++closed;
  EXPECT_EQ(opened, 2u) << dump;
  EXPECT_EQ(closed, 2u) << dump;
  EXPECT_NE(dump.find("by=quiet denials=1 trigger pid=" + std::to_string(worker) + " tid=" +
                      std::to_string(binds[0].tid) + " CAP_NET_BIND_SERVICE syscall=bind"),
            std::string::npos)
      << dump;
  const std::string report = capture({CAPAUDIT_ANALYZE_BIN, "report", "-f", "json", w.rec.path});
  EXPECT_NE(report.find("\"outcome_windows\": 2"), std::string::npos) << report.substr(0, 2000);
  EXPECT_NE(report.find("\"not_tracked\": 2"), std::string::npos) << report.substr(0, 4000);
#endif
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
