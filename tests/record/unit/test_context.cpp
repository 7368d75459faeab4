#include "tests/support/scratch_dir.h"
#include "record/host/context.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/record/helper/run_helper.h"

#include <zlib.h>

namespace capaudit::record {
namespace {

namespace fs = std::filesystem;

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string chomped(const std::string& path) {
  std::string s = file_text(path);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

uint64_t inode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

const common::KeyValue* find(const std::vector<common::KeyValue>& kvs, const std::string& key) {
  auto it = std::find_if(kvs.begin(), kvs.end(), [&](const auto& kv) { return kv.key == key; });
  return it == kvs.end() ? nullptr : &*it;
}

using TempDir = capaudit::test::ScratchDir;

TEST(Sysctls, ReadsPresentOmitsAbsentKeepsInnerWhitespace) {
  TempDir root;
  root.write("kernel/kptr_restrict", "1\n");
  root.write("net/ipv4/ping_group_range", "0\t2147483647\n");
  root.write("fs/mqueue/msg_max", "10\n");
  root.write("fs/mqueue/queues_max", "256\n");
  auto values = read_sysctls({"kernel.kptr_restrict", "kernel.yama.ptrace_scope", "net.ipv4.ping_group_range"},
                             root.path());
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].key, "kernel.kptr_restrict");
  EXPECT_EQ(values[0].value, "1");
  EXPECT_EQ(values[1].value, "0\t2147483647");

  auto names = global_sysctl_names(root.path());
  auto at = std::find(names.begin(), names.end(), "fs.mqueue.msg_max");
  ASSERT_NE(at, names.end());
  EXPECT_EQ(*(at + 1), "fs.mqueue.queues_max");
}

TEST(Sysctls, RealHostValuesMatchProcSys) {
  auto values = read_sysctls(global_sysctl_names());
  const auto* kptr = find(values, "kernel.kptr_restrict");
  ASSERT_TRUE(kptr);
  EXPECT_EQ(kptr->value, chomped("/proc/sys/kernel/kptr_restrict"));
  for (const auto& name : global_sysctl_names()) {
    std::string path = "/proc/sys/" + name;
    std::replace(path.begin(), path.end(), '.', '/');
    EXPECT_EQ(find(values, name) != nullptr, fs::exists(path)) << name;
  }
  EXPECT_TRUE(find(values, "fs.mqueue.msg_max"));
  EXPECT_TRUE(find(values, "fs.pipe-max-size"));
}

// A process in its own netns where binding port 80 needs no capability.
struct NetnsChild {
  pid_t pid = -1;
  NetnsChild() {
    int p[2];
    if (pipe(p) != 0) return;
    pid = fork();
    if (pid == 0) {
      close(p[0]);
      char ok = 'n';
      if (unshare(CLONE_NEWNET) == 0) {
        std::ofstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") << "0\n";
        rlimit lim{123, 456};
        setrlimit(RLIMIT_NOFILE, &lim);
        ok = 'y';
      }
      if (write(p[1], &ok, 1) != 1) _exit(1);
      pause();
      _exit(0);
    }
    close(p[1]);
    char ok = 'n';
    if (read(p[0], &ok, 1) != 1 || ok != 'y') pid = -pid;
    close(p[0]);
  }
  ~NetnsChild() {
    pid_t real = pid < 0 ? -pid : pid;
    if (real > 0) {
      kill(real, SIGKILL);
      waitpid(real, nullptr, 0);
    }
  }
};

TEST(Sysctls, PerNetnsValuesComeFromTheTargetsNamespace) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (unshare, setns)";
  NetnsChild child;
  ASSERT_GT(child.pid, 0) << "could not create a network namespace";
  uint64_t own_netns = inode("/proc/thread-self/ns/net");

  auto target = read_netns_sysctls(child.pid);
  EXPECT_TRUE(target.error.empty()) << target.error;
  EXPECT_EQ(target.netns_inum, inode("/proc/" + std::to_string(child.pid) + "/ns/net"));
  EXPECT_NE(target.netns_inum, own_netns);
  const auto* port = find(target.values, "net.ipv4.ip_unprivileged_port_start");
  ASSERT_TRUE(port);
  EXPECT_EQ(port->value, "0");
  EXPECT_TRUE(find(target.values, "net.ipv4.ping_group_range"));

  auto host = read_netns_sysctls(getpid());
  EXPECT_EQ(host.netns_inum, own_netns);
  const auto* host_port = find(host.values, "net.ipv4.ip_unprivileged_port_start");
  ASSERT_TRUE(host_port);
  EXPECT_EQ(host_port->value, chomped("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
  EXPECT_NE(host_port->value, "0");
  // Reading the target's netns moved no thread of ours.
  EXPECT_EQ(inode("/proc/thread-self/ns/net"), own_netns);
}

TEST(Rlimits, ReadsTheTargetsLimits) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (unshare)";
  NetnsChild child;
  ASSERT_GT(child.pid, 0);
  auto limits = read_rlimits(child.pid);
  EXPECT_EQ(limits.size(), 16u);
  auto nofile = std::find_if(limits.begin(), limits.end(), [](const auto& r) { return r.name == "RLIMIT_NOFILE"; });
  ASSERT_NE(nofile, limits.end());
  EXPECT_EQ(nofile->resource, RLIMIT_NOFILE);
  EXPECT_EQ(nofile->soft, 123u);
  EXPECT_EQ(nofile->hard, 456u);
}

TEST(Rlimits, InfinityIsUint64Max) {
  auto limits = read_rlimits(getpid());
  rlimit cpu{};
  getrlimit(RLIMIT_CPU, &cpu);
  auto it = std::find_if(limits.begin(), limits.end(), [](const auto& r) { return r.resource == RLIMIT_CPU; });
  ASSERT_NE(it, limits.end());
  EXPECT_EQ(it->hard, cpu.rlim_max == RLIM_INFINITY ? UINT64_MAX : cpu.rlim_max);
}

TEST(Security, ParsesLsmList) {
  EXPECT_EQ(parse_lsm_list("lockdown,capability,landlock,yama,apparmor\n"),
            (std::vector<std::string>{"lockdown", "capability", "landlock", "yama", "apparmor"}));
  EXPECT_TRUE(parse_lsm_list("\n").empty());
}

TEST(Security, ReadsMountedSecurityfsFiles) {
  TempDir dir;
  dir.write("lsm", "capability,bpf\n");
  dir.write("lockdown", "none [integrity] confidentiality\n");
  auto info = read_security_info(dir.path());
  EXPECT_EQ(info.lockdown, "none [integrity] confidentiality");
  EXPECT_EQ(info.lsms, (std::vector<std::string>{"capability", "bpf"}));
}

std::string securityfs_mounts() {
  std::string out, line;
  std::ifstream in("/proc/self/mountinfo");
  while (std::getline(in, line))
    if (line.find(" securityfs ") != std::string::npos) out += line + "\n";
  return out;
}

TEST(Security, MountsSecurityfsPrivatelyWhenAbsent) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (mount namespace)";
  std::string before = securityfs_mounts();
  auto info = read_security_info();
  EXPECT_EQ(securityfs_mounts(), before);  // the host's mounts are untouched
  EXPECT_NE(info.lockdown.find("none"), std::string::npos) << info.lockdown;
  EXPECT_TRUE(std::find(info.lsms.begin(), info.lsms.end(), "capability") != info.lsms.end());
}

TEST(Context, FillsTheHeader) {
  common::Header h;
  auto warnings = fill_system_context(h, getpid());
  utsname u{};
  uname(&u);
  EXPECT_EQ(h.hostname, u.nodename);
  EXPECT_EQ(h.kernel_release, u.release);
  EXPECT_EQ(h.arch, u.machine);
  EXPECT_EQ(h.boot_id, chomped("/proc/sys/kernel/random/boot_id"));
  EXPECT_EQ(h.boot_id.size(), 36u);
  EXPECT_FALSE(h.lockdown.empty());
  EXPECT_EQ(h.init_userns_inum, kInitUserNsInum);
  // The constant matches the kernel: this test runs in the initial user ns.
  EXPECT_EQ(inode("/proc/self/ns/user"), kInitUserNsInum) << "not in the initial user namespace?";
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  EXPECT_LT(std::llabs(h.clock_realtime_ns / 1'000'000'000 - now.tv_sec), 5);
  timespec boot{};
  clock_gettime(CLOCK_BOOTTIME, &boot);
  EXPECT_LE(h.clock_boottime_ns, static_cast<uint64_t>(boot.tv_sec) * 1'000'000'000ull + boot.tv_nsec);
  EXPECT_TRUE(find(h.sysctls_global, "kernel.perf_event_paranoid"));
  EXPECT_TRUE(find(h.sysctls_netns, "net.ipv4.ip_unprivileged_port_start"));
  EXPECT_EQ(h.target_netns_inum, inode("/proc/self/ns/net"));
  EXPECT_EQ(h.target_rlimits.size(), 16u);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

// Format 1.9: the kernel's build configuration, the symbols the rules read.
TEST(KernelConfig, ParsesSetNotSetValuesAndAbsent) {
  const std::string text =
      "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_A=y\n# CONFIG_B is not set\n"
      "CONFIG_C=\"a b\"\nCONFIG_M=m\n# CONFIG_AB is not set\nCONFIG_BX=y\n";
  const auto kvs = parse_kernel_config(text, {"CONFIG_A", "CONFIG_B", "CONFIG_C", "CONFIG_M", "CONFIG_D"});
  EXPECT_EQ(kvs, (std::vector<common::KeyValue>{{"CONFIG_A", "y"},
                                                {"CONFIG_B", "n"},
                                                {"CONFIG_C", "\"a b\""},
                                                {"CONFIG_M", "m"},
                                                {"CONFIG_D", "absent"}}));
}

TEST(KernelConfig, TheRulesSymbolsAreRecorded) {
  // Extracted from analyze/data/sysctl_rules.conf at build time.
  const auto& syms = kernel_config_symbols();
  EXPECT_NE(std::find(syms.begin(), syms.end(), "CONFIG_SECURITY_PERF_EVENTS_RESTRICT"), syms.end());
  for (const auto& s : syms) EXPECT_EQ(s.rfind("CONFIG_", 0), 0u) << s;
}

TEST(KernelConfig, ProcConfigGzFirstThenBootThenUnknown) {
  TempDir dir;
  const std::string gz = dir.path().string() + "/config.gz";
  const std::string boot = dir.path().string() + "/boot";
  fs::create_directories(boot);
  const std::vector<std::string> syms{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT"};

  // Neither: unknown, and why.
  KernelConfig none = read_kernel_config(syms, "6.1.0-31-cloud-amd64", gz, boot);
  EXPECT_EQ(none.source, "");
  EXPECT_TRUE(none.symbols.empty());
  EXPECT_NE(none.missing.find(gz), std::string::npos) << none.missing;
  EXPECT_NE(none.missing.find(boot + "/config-6.1.0-31-cloud-amd64"), std::string::npos) << none.missing;

  // Debian's /boot/config-RELEASE.
  std::ofstream(boot + "/config-6.1.0-31-cloud-amd64") << "CONFIG_PERF_EVENTS=y\nCONFIG_SECURITY_PERF_EVENTS_RESTRICT=y\n";
  KernelConfig deb = read_kernel_config(syms, "6.1.0-31-cloud-amd64", gz, boot);
  EXPECT_EQ(deb.source, boot + "/config-6.1.0-31-cloud-amd64");
  EXPECT_EQ(deb.symbols, (std::vector<common::KeyValue>{{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", "y"}}));
  // Another release's file is not this kernel's.
  EXPECT_EQ(read_kernel_config(syms, "6.12.0", gz, boot).source, "");

  // /proc/config.gz (built into the running kernel) wins.
  gzFile out = gzopen(gz.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  const std::string vanilla = "CONFIG_PERF_EVENTS=y\n# CONFIG_SECURITY_SELINUX is not set\n";
  gzwrite(out, vanilla.data(), static_cast<unsigned>(vanilla.size()));
  gzclose(out);
  KernelConfig proc = read_kernel_config(syms, "6.1.0-31-cloud-amd64", gz, boot);
  EXPECT_EQ(proc.source, gz);
  EXPECT_EQ(proc.symbols, (std::vector<common::KeyValue>{{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", "absent"}}));
  EXPECT_EQ(proc.missing, "");
}

}  // namespace
}  // namespace capaudit::record
