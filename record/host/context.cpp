#include "record/host/context.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <zlib.h>

namespace capaudit::record {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string sysctl_path(const std::string& root, const std::string& name) {
  std::string rel = name;
  std::replace(rel.begin(), rel.end(), '.', '/');
  return root + "/" + rel;
}

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct RlimitName {
  int resource;
  const char* name;
};
constexpr RlimitName kRlimits[] = {
    {RLIMIT_CPU, "RLIMIT_CPU"},           {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {RLIMIT_DATA, "RLIMIT_DATA"},         {RLIMIT_STACK, "RLIMIT_STACK"},
    {RLIMIT_CORE, "RLIMIT_CORE"},         {RLIMIT_RSS, "RLIMIT_RSS"},
    {RLIMIT_NPROC, "RLIMIT_NPROC"},       {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},   {RLIMIT_AS, "RLIMIT_AS"},
    {RLIMIT_LOCKS, "RLIMIT_LOCKS"},       {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"}, {RLIMIT_NICE, "RLIMIT_NICE"},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},     {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
};

SecurityInfo read_security_files(const std::string& dir) {
  SecurityInfo info;
  auto lockdown = slurp(dir + "/lockdown");
  info.lockdown = lockdown ? chomp(*lockdown) : "unavailable (no lockdown LSM in this kernel)";
  if (auto lsm = slurp(dir + "/lsm")) info.lsms = parse_lsm_list(*lsm);
  return info;
}

bool securityfs_mounted(const std::string& dir) { return access((dir + "/lsm").c_str(), F_OK) == 0; }

// Mounting securityfs on the host would outlive us and change what the
// machine looks like; a private mount namespace in a child leaves no trace.
std::optional<SecurityInfo> read_security_in_private_mount(const std::string& dir) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    close(p[0]);
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("securityfs", dir.c_str(), "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      _exit(1);
    SecurityInfo info = read_security_files(dir);
    std::string out = info.lockdown + "\n";
    for (const auto& l : info.lsms) out += l + ",";
    ssize_t ignored = write(p[1], out.data(), out.size());
    (void)ignored;
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) return std::nullopt;
  SecurityInfo info;
  auto nl = out.find('\n');
  info.lockdown = out.substr(0, nl);
  info.lsms = parse_lsm_list(out.substr(nl + 1));
  return info;
}

}  // namespace

std::vector<std::string> global_sysctl_names(const std::string& sys_root) {
  std::vector<std::string> names = {
      "kernel.yama.ptrace_scope",
      "kernel.kptr_restrict",
      "kernel.perf_event_paranoid",
      "kernel.dmesg_restrict",
      "kernel.unprivileged_bpf_disabled",
      "kernel.io_uring_disabled",
      "kernel.io_uring_group",
      "vm.unprivileged_userfaultfd",
      "user.max_user_namespaces",
      "kernel.unprivileged_userns_clone",            // Debian/Ubuntu patch
      "kernel.apparmor_restrict_unprivileged_userns",  // Ubuntu
      "vm.mmap_min_addr",
      "fs.protected_hardlinks",
      "fs.protected_symlinks",
      "fs.pipe-max-size",
  };
  std::vector<std::string> mqueue;
  if (DIR* d = opendir((sys_root + "/fs/mqueue").c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') mqueue.push_back(std::string("fs.mqueue.") + e->d_name);
    closedir(d);
  }
  std::sort(mqueue.begin(), mqueue.end());
  names.insert(names.end(), mqueue.begin(), mqueue.end());
  return names;
}

std::vector<std::string> netns_sysctl_names() {
  return {"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range"};
}

std::vector<common::KeyValue> read_sysctls(const std::vector<std::string>& names, const std::string& sys_root) {
  std::vector<common::KeyValue> out;
  for (const auto& name : names) {
    auto value = slurp(sysctl_path(sys_root, name));
    if (!value) continue;
    if (!value->empty() && value->back() == '\n') value->pop_back();
    out.push_back({name, *value});
  }
  return out;
}

NetnsSysctls read_netns_sysctls(pid_t pid) {
  NetnsSysctls result;
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
  result.netns_inum = inode_of(ns_path);
  if (result.netns_inum == 0) {
    result.error = "cannot see the network namespace of pid " + std::to_string(pid) + ": " + std::strerror(errno);
    return result;
  }
  if (result.netns_inum == inode_of("/proc/thread-self/ns/net")) {
    result.values = read_sysctls(netns_sysctl_names());
    return result;
  }
  int fd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.error = "cannot open " + ns_path + ": " + std::strerror(errno);
    return result;
  }
  std::thread reader([&] {
    if (setns(fd, CLONE_NEWNET) != 0) {
      result.error = "cannot enter the network namespace of pid " + std::to_string(pid) + ": " + std::strerror(errno);
      return;
    }
    result.values = read_sysctls(netns_sysctl_names());
  });
  reader.join();
  close(fd);
  return result;
}

std::vector<common::Rlimit> read_rlimits(pid_t pid) {
  std::vector<common::Rlimit> out;
  for (const auto& r : kRlimits) {
    rlimit lim{};
    if (prlimit(pid, static_cast<__rlimit_resource>(r.resource), nullptr, &lim) != 0) continue;
    auto value = [](rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v); };
    out.push_back({r.resource, r.name, value(lim.rlim_cur), value(lim.rlim_max)});
  }
  return out;
}

std::vector<std::string> parse_lsm_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(chomp(text));
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

SecurityInfo read_security_info(const std::string& securityfs) {
  if (securityfs_mounted(securityfs)) return read_security_files(securityfs);
  if (auto info = read_security_in_private_mount(securityfs)) return *info;
  return {"unknown (securityfs not mounted)", {}};
}

const std::vector<std::string>& kernel_config_symbols() {
  static const std::vector<std::string> symbols = {
#include "kernel_config_symbols.inc"
  };
  return symbols;
}

std::vector<common::KeyValue> parse_kernel_config(std::string_view text, const std::vector<std::string>& symbols) {
  std::vector<common::KeyValue> out;
  for (const auto& sym : symbols) out.push_back({sym, "absent"});
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // "CONFIG_X=value" or "# CONFIG_X is not set" (scripts/kconfig/confdata.c)
    std::string_view name;
    std::string value;
    constexpr std::string_view kNotSet = " is not set";
    if (line.rfind("# CONFIG_", 0) == 0 && line.size() > kNotSet.size() &&
        line.substr(line.size() - kNotSet.size()) == kNotSet) {
      name = line.substr(2, line.size() - 2 - kNotSet.size());
      value = "n";
    } else if (line.rfind("CONFIG_", 0) == 0 && line.find('=') != std::string_view::npos) {
      name = line.substr(0, line.find('='));
      value = std::string(line.substr(line.find('=') + 1));
    } else {
      continue;
    }
    for (auto& kv : out)
      if (kv.key == name) kv.value = value;
  }
  return out;
}

namespace {

// The text of a kernel config file, at most kMaxKernelConfigBytes; nullopt
// with WHY when not. zlib reads /proc/config.gz (kernel/configs.c) and, in
// its transparent mode, a plain /boot/config-RELEASE alike.
std::optional<std::string> read_config_text(const std::string& path, std::string& why) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) {
    why = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  int n = 0;
  while (text.size() <= kMaxKernelConfigBytes && (n = gzread(gz, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  int err = Z_OK;
  const char* msg = n < 0 ? gzerror(gz, &err) : nullptr;
  gzclose(gz);
  if (n < 0) {
    why = path + ": " + (msg ? msg : "unreadable");
    return std::nullopt;
  }
  if (text.size() > kMaxKernelConfigBytes) {
    why = path + ": larger than " + std::to_string(kMaxKernelConfigBytes) + " bytes";
    return std::nullopt;
  }
  return text;
}

}  // namespace

KernelConfig read_kernel_config(const std::vector<std::string>& symbols, const std::string& release,
                                const std::string& proc_config, const std::string& boot_dir) {
  KernelConfig out;
  std::vector<std::string> why_not;
  for (const std::string& path : {proc_config, boot_dir + "/config-" + release}) {
    std::string why;
    if (auto text = read_config_text(path, why)) {
      out.source = path;
      out.symbols = parse_kernel_config(*text, symbols);
      return out;
    }
    why_not.push_back(why);
  }
  out.missing = why_not[0] + "; " + why_not[1];
  return out;
}

std::vector<std::string> fill_system_context(common::Header& header, pid_t target) {
  std::vector<std::string> warnings;
  utsname u{};
  if (uname(&u) == 0) {
    header.hostname = u.nodename;
    header.kernel_release = u.release;
    header.kernel_version = u.version;
    header.arch = u.machine;
  } else {
    warnings.push_back(std::string("uname failed: ") + std::strerror(errno));
  }
  if (!header.kernel_release.empty()) {
    KernelConfig config = read_kernel_config(kernel_config_symbols(), header.kernel_release);
    header.kernel_config_source = config.source;
    header.kernel_config = config.symbols;
    header.kernel_config_missing = config.missing;
  }
  if (auto boot_id = slurp("/proc/sys/kernel/random/boot_id")) header.boot_id = chomp(*boot_id);
  else warnings.push_back("cannot read /proc/sys/kernel/random/boot_id");

  SecurityInfo security = read_security_info();
  header.lockdown = security.lockdown;
  header.lsms = security.lsms;
  header.init_userns_inum = kInitUserNsInum;

  // BOOTTIME on both sides of REALTIME: the midpoint pairs them to within
  // half the (sub-microsecond) gap.
  timespec b1{}, r{}, b2{};
  clock_gettime(CLOCK_BOOTTIME, &b1);
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_BOOTTIME, &b2);
  header.clock_boottime_ns = to_ns(b1) + (to_ns(b2) - to_ns(b1)) / 2;
  header.clock_realtime_ns = static_cast<int64_t>(to_ns(r));

  header.sysctls_global = read_sysctls(global_sysctl_names());
  NetnsSysctls netns = read_netns_sysctls(target);
  header.sysctls_netns = netns.values;
  header.target_netns_inum = netns.netns_inum;
  if (!netns.error.empty()) warnings.push_back(netns.error);

  header.target_rlimits = read_rlimits(target);
  if (header.target_rlimits.empty())
    warnings.push_back("cannot read the resource limits of pid " + std::to_string(target));
  return warnings;
}

}  // namespace capaudit::record
