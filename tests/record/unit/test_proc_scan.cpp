#include "tests/support/scratch_dir.h"
#include "record/host/proc_scan.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "record/host/privileges.h"
#include "tests/record/helper/run_helper.h"

namespace capaudit::record {
namespace {

bool contains(const std::vector<uint32_t>& v, uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

uint64_t boottime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string stat_line(const std::string& comm, uint64_t start_ticks) {
  std::string s = "4321 (" + comm + ") S 77";
  for (int field = 5; field <= 52; ++field) s += " " + std::to_string(field == 22 ? start_ticks : field);
  return s + "\n";
}

TEST(ProcStat, ParsesAwkwardCommNames) {
  auto st = parse_proc_stat(stat_line("a b) c (d", 123456));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, 4321u);
  EXPECT_EQ(st->comm, "a b) c (d");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 77u);
  EXPECT_EQ(st->start_ticks, 123456u);
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("garbage"));
}

TEST(ProcStat, TicksToNanoseconds) {
  EXPECT_EQ(ticks_to_ns(250, 100), 2'500'000'000ull);
  EXPECT_EQ(ticks_to_ns(3, 300), 10'000'000ull);
  // 500 days at 100 Hz does not overflow.
  EXPECT_EQ(ticks_to_ns(4'320'000'000ull, 100), 43'200'000'000'000'000ull);
  EXPECT_EQ(ticks_to_ns(5, 0), 0u);
}

TEST(ProcStat, CgroupV2Line) {
  EXPECT_EQ(cgroup_v2_path("12:cpu,cpuacct:/x\n1:name=systemd:/user.slice\n0::/user.slice/session-1.scope\n"),
            "/user.slice/session-1.scope");
  EXPECT_EQ(cgroup_v2_path("1:name=systemd:/\n"), "");
}

TEST(ProcScan, DescribesThisProcess) {
  auto info = read_process(static_cast<uint32_t>(getpid()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(info->ppid, static_cast<uint32_t>(getppid()));
  EXPECT_EQ(info->exe, std::filesystem::read_symlink("/proc/self/exe").string());
  ASSERT_FALSE(info->argv.empty());
  EXPECT_NE(info->argv[0].find("record_unit_support"), std::string::npos) << info->argv[0];
  EXPECT_EQ(info->uid, getuid());
  EXPECT_EQ(info->euid, geteuid());
  EXPECT_EQ(info->gid, getgid());
  EXPECT_EQ(info->caps.effective, current_caps().effective);
  EXPECT_EQ(info->caps.bounding, current_caps().bounding);
  EXPECT_EQ(info->cgroup.rfind("/", 0), 0u) << info->cgroup;
  EXPECT_LE(info->start_time_ns, boottime_ns());
}

TEST(ProcScan, StartTimeIsBoottimeOfTheFork) {
  long hz = sysconf(_SC_CLK_TCK);
  uint64_t tick = 1'000'000'000ull / static_cast<uint64_t>(hz);
  uint64_t before = boottime_ns();
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  uint64_t after = boottime_ns();
  auto info = read_process(static_cast<uint32_t>(child));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(info);
  EXPECT_GE(info->start_time_ns, before / tick * tick);
  EXPECT_LE(info->start_time_ns, after);
}

TEST(ProcScan, GoneProcessIsNullopt) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(read_process(static_cast<uint32_t>(child)));
  EXPECT_TRUE(process_tree(static_cast<uint32_t>(child)).pids.empty());
  EXPECT_TRUE(threads_of(static_cast<uint32_t>(child)).empty());
}

// A child with a grandchild and a second thread; all block until killed.
struct SmallTree {
  pid_t child = -1, grandchild = -1, thread_tid = -1;
  SmallTree() {
    int p[2];
    if (pipe(p) != 0) return;
    child = fork();
    if (child == 0) {
      close(p[0]);
      pid_t g = fork();
      if (g == 0) {
        pause();
        _exit(0);
      }
      pid_t tid = -1;
      int ready[2];
      if (pipe(ready) != 0) _exit(1);
      std::thread t([&] {
        tid = gettid();
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(1);
        pause();
      });
      char c;
      if (read(ready[0], &c, 1) != 1) _exit(1);
      pid_t ids[2] = {g, tid};
      if (write(p[1], ids, sizeof ids) != sizeof ids) _exit(1);
      pause();
      _exit(0);
    }
    close(p[1]);
    pid_t ids[2];
    if (read(p[0], ids, sizeof ids) == sizeof ids) grandchild = ids[0], thread_tid = ids[1];
    close(p[0]);
  }
  ~SmallTree() {
    if (grandchild > 0) kill(grandchild, SIGKILL);
    if (child > 0) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
  }
};

TEST(ProcScan, TreeHoldsDescendantsAndThreads) {
  SmallTree t;
  ASSERT_GT(t.grandchild, 0);
  auto tree = process_tree(static_cast<uint32_t>(t.child));
  ASSERT_EQ(tree.pids.size(), 2u);
  EXPECT_EQ(tree.pids[0], static_cast<uint32_t>(t.child));
  EXPECT_EQ(tree.pids[1], static_cast<uint32_t>(t.grandchild));
  EXPECT_TRUE(contains(tree.tids, static_cast<uint32_t>(t.child)));
  EXPECT_TRUE(contains(tree.tids, static_cast<uint32_t>(t.thread_tid)));
  EXPECT_TRUE(contains(tree.tids, static_cast<uint32_t>(t.grandchild)));
  EXPECT_EQ(tree.tids.size(), 3u);
  EXPECT_FALSE(contains(tree.pids, static_cast<uint32_t>(getpid())));

  auto ours = process_tree(static_cast<uint32_t>(getpid()));
  EXPECT_EQ(ours.pids[0], static_cast<uint32_t>(getpid()));
  EXPECT_TRUE(contains(ours.pids, static_cast<uint32_t>(t.grandchild)));
}

TEST(ProcScan, ReadsFileCapsOfTheRunningBinary) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "setcap needs root";
  const capaudit::test::ScratchDir scratch("capaudit-procscan");
  ASSERT_TRUE(scratch.ok());
  const std::filesystem::path& dir = scratch.path();
  auto bin = dir / "sleep";
  std::filesystem::copy_file("/bin/sleep", bin);
  ASSERT_EQ(capaudit::test::run_program({"/sbin/setcap", "cap_net_raw+ep", bin.string()}).exit_code(), 0);
  pid_t child = fork();
  if (child == 0) {
    execl(bin.c_str(), "sleep", "100", nullptr);
    _exit(127);
  }
  std::optional<common::ProcessInfo> info;
  for (int i = 0; i < 200; ++i) {  // until the exec completed (exe switches before argv is set up)
    info = read_process(static_cast<uint32_t>(child));
    if (info && info->exe == bin.string() && !info->argv.empty()) break;
    usleep(5000);
  }
  // Replacing the file on disk must not change what we report for the process.
  std::filesystem::remove(bin);
  auto after_delete = read_process(static_cast<uint32_t>(child));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->exe, bin.string());
  EXPECT_EQ(info->argv, (std::vector<std::string>{"sleep", "100"}));
  ASSERT_TRUE(info->file_caps);
  EXPECT_EQ(info->file_caps->permitted, uint64_t{1} << CAP_NET_RAW);
  ASSERT_TRUE(after_delete && after_delete->file_caps);
  EXPECT_EQ(after_delete->file_caps->permitted, uint64_t{1} << CAP_NET_RAW);
}

// A real cgroup v2 directory made by the test, with one process in it and
// one in a child cgroup.
TEST(ProcScan, CgroupProcesses) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "creating cgroups needs root";
  std::string root = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/unified"
                                                                             : "/sys/fs/cgroup";
  std::string dir = root + "/capaudit-unit-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  ASSERT_EQ(mkdir((dir + "/inner").c_str(), 0755), 0);
  auto spawn_in = [](const std::string& cg) {
    pid_t pid = fork();
    if (pid == 0) {
      std::ofstream(cg + "/cgroup.procs") << getpid() << std::endl;
      pause();
      _exit(0);
    }
    return pid;
  };
  pid_t outer = spawn_in(dir), inner = spawn_in(dir + "/inner");
  std::vector<uint32_t> all;
  for (int i = 0; i < 200 && all.size() < 2; ++i) {
    if (auto r = cgroup_processes(dir, true)) all = *r;
    if (all.size() < 2) usleep(5000);
  }
  auto direct = cgroup_processes(dir, false);
  for (pid_t p : {outer, inner}) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
  rmdir((dir + "/inner").c_str());
  rmdir(dir.c_str());
  EXPECT_EQ(all, (std::vector<uint32_t>{static_cast<uint32_t>(std::min(outer, inner)),
                                        static_cast<uint32_t>(std::max(outer, inner))}));
  ASSERT_TRUE(direct);
  EXPECT_EQ(*direct, (std::vector<uint32_t>{static_cast<uint32_t>(outer)}));
  auto missing = cgroup_processes("/nonexistent/cg", true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "/nonexistent/cg is not a readable cgroup (no cgroup.procs)");
}

}  // namespace
}  // namespace capaudit::record
