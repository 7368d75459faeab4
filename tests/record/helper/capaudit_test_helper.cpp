// capaudit-test-helper OP [ARGS]: performs exactly one privileged operation
// (see README.md next to this file for the capability each one needs), so an
// end-to-end test can record it and know which checks the trace must hold.
// Exit 0: the operation succeeded. 1: it failed (message names the errno).
// 2: usage error.
//
// Every operation uses the plain syscall wrapper so the recorded syscall
// number is the obvious one; nothing here depends on capaudit's libraries.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using Args = std::vector<std::string>;

constexpr uid_t kNobody = 65534;
constexpr const char* kProgram = "capaudit-test-helper";

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name ? name : "E?") + " (" + std::strerror(err) + ")";
}

// Reports a failed call and returns the "operation failed" exit code.
int fail(const std::string& op, const std::string& what, int err) {
  std::fprintf(stderr, "%s: %s: %s: %s\n", kProgram, op.c_str(), what.c_str(), errno_text(err).c_str());
  return 1;
}

int ok(const std::string& op, const std::string& detail = "") {
  std::printf("ok %s%s%s\n", op.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stdout);
  return 0;
}

// Optional trailing port argument lets netns tests bind other ports.
int port_arg(const Args& args, int fallback) { return args.empty() ? fallback : std::atoi(args[0].c_str()); }

int bind_port(const std::string& op, int family, int type, int port) {
  int fd = socket(family, type, 0);
  if (fd < 0) return fail(op, "socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    // v6-only so the bind never depends on a v4 listener holding the port.
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(port));
    sa.sin6_addr = in6addr_any;
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  int err = errno;
  close(fd);
  if (rc != 0) return fail(op, "bind port " + std::to_string(port), err);
  return ok(op, "port " + std::to_string(port));
}

int op_raw_socket(const std::string& op, const Args&) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) return fail(op, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)", errno);
  close(fd);
  return ok(op);
}

int op_icmp_socket(const std::string& op, const Args&) {
  int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) return fail(op, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)", errno);
  close(fd);
  return ok(op);
}

// A temp file/dir in /tmp removed on scope exit, so a failed op leaves nothing.
struct TempPath {
  std::string path;
  bool dir = false;
  ~TempPath() {
    if (!path.empty()) (dir ? rmdir(path.c_str()) : unlink(path.c_str()));
  }
};

int op_chown(const std::string& op, const Args&) {
  char name[] = "/tmp/capaudit-helper-chown-XXXXXX";
  int fd = mkstemp(name);
  if (fd < 0) return fail(op, "mkstemp", errno);
  close(fd);
  TempPath cleanup{name};
  if (chown(name, kNobody, kNobody) != 0) return fail(op, "chown to 65534", errno);
  return ok(op);
}

int op_setuid(const std::string& op, const Args&) {
  if (setuid(kNobody) != 0) return fail(op, "setuid(65534)", errno);
  return ok(op);
}

int op_setgid(const std::string& op, const Args&) {
  if (setgid(kNobody) != 0) return fail(op, "setgid(65534)", errno);
  return ok(op);
}

int op_setgroups(const std::string& op, const Args&) {
  gid_t groups[] = {kNobody};
  if (setgroups(1, groups) != 0) return fail(op, "setgroups([65534])", errno);
  return ok(op);
}

// The victim runs as a uid different from ours, so the kill needs CAP_KILL.
// The victim's own setuid needs CAP_SETUID: that check happens in the child
// process, the CAP_KILL one in this process.
int op_kill_other_uid(const std::string& op, const Args&) {
  uid_t victim_uid = getuid() == kNobody ? kNobody - 1 : kNobody;
  int ready[2];
  if (pipe(ready) != 0) return fail(op, "pipe", errno);
  pid_t child = fork();
  if (child < 0) return fail(op, "fork", errno);
  if (child == 0) {
    close(ready[0]);
    // Once it has another uid we may be unable to kill it: never outlive the op.
    alarm(10);
    char status = setuid(victim_uid) == 0 ? 'y' : 'n';
    if (write(ready[1], &status, 1) != 1) _exit(1);
    close(ready[1]);
    for (;;) pause();
  }
  close(ready[1]);
  char status = 'n';
  ssize_t got = read(ready[0], &status, 1);
  close(ready[0]);
  if (got != 1 || status != 'y') {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    std::fprintf(stderr, "%s: %s: victim could not setuid(%u)\n", kProgram, op.c_str(), victim_uid);
    return 1;
  }
  int rc = kill(child, SIGTERM);
  int err = errno;
  if (rc != 0) {
    // The victim's alarm ends it; waiting keeps the exit after its end.
    waitpid(child, nullptr, 0);
    return fail(op, "kill(pid of uid " + std::to_string(victim_uid) + ", SIGTERM)", err);
  }
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  return ok(op, "signalled pid " + std::to_string(child) + " of uid " + std::to_string(victim_uid));
}

int op_mknod_char(const std::string& op, const Args&) {
  char dir[] = "/tmp/capaudit-helper-mknod-XXXXXX";
  if (!mkdtemp(dir)) return fail(op, "mkdtemp", errno);
  TempPath dir_cleanup{dir, true};
  std::string node = std::string(dir) + "/null";
  if (mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0) return fail(op, "mknod char 1:3", errno);
  TempPath node_cleanup{node};
  return ok(op);
}

int op_sethostname_uts(const std::string& op, const Args&) {
  if (unshare(CLONE_NEWUTS) != 0) return fail(op, "unshare(CLONE_NEWUTS)", errno);
  const char name[] = "capaudit-helper";
  if (sethostname(name, sizeof name - 1) != 0) return fail(op, "sethostname", errno);
  return ok(op);
}

int op_mount_tmpfs(const std::string& op, const Args&) {
  char dir[] = "/tmp/capaudit-helper-mnt-XXXXXX";
  if (!mkdtemp(dir)) return fail(op, "mkdtemp", errno);
  TempPath cleanup{dir, true};
  if (unshare(CLONE_NEWNS) != 0) return fail(op, "unshare(CLONE_NEWNS)", errno);
  // Private first, so the tmpfs never propagates back to the host namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(op, "make / private", errno);
  if (mount("capaudit-helper", dir, "tmpfs", 0, "size=64k") != 0) return fail(op, "mount tmpfs", errno);
  umount2(dir, MNT_DETACH);
  return ok(op);
}

int op_read_kallsyms(const std::string& op, const Args&) {
  std::ifstream in("/proc/kallsyms");
  if (!in) return fail(op, "open /proc/kallsyms", errno);
  std::string line;
  size_t lines = 0, nonzero = 0;
  while (std::getline(in, line)) {
    ++lines;
    if (line.find_first_not_of('0') < line.find(' ')) ++nonzero;
  }
  if (lines == 0) {
    std::fprintf(stderr, "%s: %s: /proc/kallsyms is empty\n", kProgram, op.c_str());
    return 1;
  }
  return ok(op, std::string("addresses ") + (nonzero > 0 ? "visible" : "hidden (all zero)"));
}

int op_read_kmsg(const std::string& op, const Args&) {
  // SYSLOG_ACTION_READ_ALL = 3; SIZE_BUFFER = 10.
  int size = klogctl(10, nullptr, 0);
  if (size < 0) return fail(op, "klogctl(SIZE_BUFFER)", errno);
  std::vector<char> buf(static_cast<size_t>(size > 0 ? size : 4096));
  int got = klogctl(3, buf.data(), static_cast<int>(buf.size()));
  if (got < 0) return fail(op, "klogctl(READ_ALL)", errno);
  return ok(op, std::to_string(got) + " bytes");
}

// Lowering a hard limit is free; raising it back is what needs SYS_RESOURCE.
// Raising above the starting value could exceed fs.nr_open and fail for
// everyone, so the op goes down one and back up.
int op_raise_hard_rlimit(const std::string& op, const Args&) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return fail(op, "getrlimit", errno);
  rlim_t hard = lim.rlim_max;
  if (hard < 2) {
    std::fprintf(stderr, "%s: %s: RLIMIT_NOFILE hard limit too small (%llu)\n", kProgram, op.c_str(),
                 static_cast<unsigned long long>(hard));
    return 1;
  }
  rlimit lowered{std::min(lim.rlim_cur, hard - 1), hard - 1};
  if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) return fail(op, "lower hard RLIMIT_NOFILE", errno);
  rlimit raised{lowered.rlim_cur, hard};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) return fail(op, "raise hard RLIMIT_NOFILE", errno);
  return ok(op, "hard " + std::to_string(hard - 1) + " -> " + std::to_string(hard));
}

// Sets a small RLIMIT_MEMLOCK first (free) so the op needs IPC_LOCK whatever
// limit the caller had.
int op_mlock_beyond(const std::string& op, const Args&) {
  constexpr size_t kLimit = 64 * 1024, kLen = 1024 * 1024;
  rlimit small{kLimit, kLimit};
  rlimit cur{};
  getrlimit(RLIMIT_MEMLOCK, &cur);
  if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < kLimit) small = {cur.rlim_max, cur.rlim_max};
  if (setrlimit(RLIMIT_MEMLOCK, &small) != 0) return fail(op, "setrlimit(MEMLOCK)", errno);
  void* mem = mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return fail(op, "mmap", errno);
  int rc = mlock(mem, kLen);
  int err = errno;
  if (rc == 0) munlock(mem, kLen);
  munmap(mem, kLen);
  if (rc != 0) return fail(op, "mlock 1 MiB over a 64 KiB RLIMIT_MEMLOCK", err);
  return ok(op);
}

int op_nice_10(const std::string& op, const Args&) {
  if (setpriority(PRIO_PROCESS, 0, -10) != 0) return fail(op, "setpriority(-10)", errno);
  return ok(op);
}

// bind 80 (must work), clear every set with one capset(), bind 80 again
// (must fail): the trace shows a granted check, the capset, then a denial.
int op_capset_drop(const std::string& op, const Args& args) {
  int port = port_arg(args, 80);
  if (bind_port(op, AF_INET, SOCK_STREAM, port) != 0) return 1;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capset, &hdr, data) != 0) return fail(op, "capset(all zero)", errno);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fail(op, "socket", errno);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int err = errno;
  close(fd);
  if (rc == 0) {
    std::fprintf(stderr, "%s: %s: bind after dropping every capability succeeded\n", kProgram, op.c_str());
    return 1;
  }
  if (err != EACCES) return fail(op, "second bind failed for another reason", err);
  return ok(op, "second bind refused: " + errno_text(err));
}

int op_setuid_loop(const std::string& op, const Args& args) {
  long n = args.empty() ? 0 : std::atol(args[0].c_str());
  for (long i = 0; i < n; ++i)
    if (syscall(SYS_setuid, 0) != 0) return fail(op, "setuid(0) #" + std::to_string(i), errno);
  return ok(op, std::to_string(n) + " calls");
}

int op_getppid_loop(const std::string& op, const Args& args) {
  long n = args.empty() ? 0 : std::atol(args[0].c_str());
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  return ok(op, std::to_string(n) + " calls");
}

int op_fork_loop(const std::string& op, const Args& args) {
  long n = args.empty() ? 0 : std::atol(args[0].c_str());
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) return fail(op, "fork #" + std::to_string(i), errno);
    if (pid == 0) _exit(0);
    waitpid(pid, nullptr, 0);
  }
  return ok(op, std::to_string(n) + " children");
}

int op_sleep(const std::string& op, const Args& args) {
  double seconds = args.empty() ? 1.0 : std::atof(args[0].c_str());
  timespec ts{static_cast<time_t>(seconds), static_cast<long>((seconds - static_cast<time_t>(seconds)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return ok(op);
}

// A pre-forking daemon in miniature: the root parent forks a worker that
// never execs; the worker (after DELAY seconds, so that -p can attach to a
// worker that already exists) makes a privileged change, then drops to
// nobody the way nginx's workers do. The parent waits for it.
int op_prefork(const std::string& op, const Args& args) {
  double delay = args.empty() ? 0.0 : std::atof(args[0].c_str());
  pid_t pid = fork();
  if (pid < 0) return fail(op, "fork", errno);
  if (pid == 0) {
    timespec ts{static_cast<time_t>(delay), static_cast<long>((delay - static_cast<time_t>(delay)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    char name[] = "/tmp/capaudit-helper-prefork-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) _exit(3);
    close(fd);
    int rc = chown(name, kNobody, kNobody) == 0 ? 0 : 4;
    unlink(name);
    if (rc == 0 && setgroups(0, nullptr) != 0) rc = 5;
    if (rc == 0 && setgid(kNobody) != 0) rc = 6;
    if (rc == 0 && setuid(kNobody) != 0) rc = 7;
    _exit(rc);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) return fail(op, "waitpid", errno);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return fail(op, "worker failed with status " + std::to_string(st), 0);
  return ok(op, "worker " + std::to_string(pid) + " dropped to 65534");
}

int run(const std::string& op, const Args& args);

int op_fork_exec(const std::string& op, const Args& args) {
  if (args.empty()) {
    std::fprintf(stderr, "%s: %s needs a CHILD-OP\n", kProgram, op.c_str());
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) return fail(op, "fork", errno);
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(kProgram));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "%s: %s: exec: %s\n", kProgram, op.c_str(), errno_text(errno).c_str());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return fail(op, "waitpid", errno);
  if (!WIFEXITED(status)) {
    std::fprintf(stderr, "%s: %s: child killed by signal %d\n", kProgram, op.c_str(), WTERMSIG(status));
    return 1;
  }
  return WEXITSTATUS(status);
}

// exec OP [ARGS]: this process becomes the helper running OP, from
// whichever thread calls it (from a second thread, that thread takes the
// process id in exec).
int op_exec(const std::string& op, const Args& args) {
  if (args.empty()) {
    std::fprintf(stderr, "%s: %s needs an OP\n", kProgram, op.c_str());
    return 2;
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kProgram));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  return fail(op, "exec", errno);
}

// repeat N SECONDS OP [ARGS]: OP N times, SECONDS apart; fails if any run failed.
int op_repeat(const std::string& op, const Args& args) {
  if (args.size() < 3) {
    std::fprintf(stderr, "%s: %s needs N SECONDS OP [ARGS]\n", kProgram, op.c_str());
    return 2;
  }
  long n = std::atol(args[0].c_str());
  Args pause{args[1]};
  int rc = 0;
  for (long i = 0; i < n; ++i) {
    if (i > 0) op_sleep("sleep", pause);
    rc = std::max(rc, run(args[2], Args(args.begin() + 3, args.end())));
  }
  return rc;
}

int op_thread(const std::string& op, const Args& args) {
  if (args.empty()) {
    std::fprintf(stderr, "%s: %s needs an OP\n", kProgram, op.c_str());
    return 2;
  }
  int rc = 1;
  std::thread worker([&] { rc = run(args[0], Args(args.begin() + 1, args.end())); });
  worker.join();
  return rc;
}

// Drop CAP (default NET_RAW) from the effective and permitted sets, then
// raise it in the inheritable set: beyond permitted, so cap_capset() allows it
// only with CAP_SETPCAP (the check cap_inh_is_capped() makes on every capset).
int op_capset_inheritable(const std::string& op, const Args& args) {
  int cap = args.empty() ? CAP_NET_RAW : std::atoi(args[0].c_str());
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return fail(op, "capget", errno);
  const uint32_t bit = 1u << (cap % 32);
  auto& word = data[cap / 32];
  word.effective &= ~bit;
  word.permitted &= ~bit;
  word.inheritable &= ~bit;
  if (syscall(SYS_capset, &hdr, data) != 0) return fail(op, "capset(drop from permitted)", errno);
  word.inheritable |= bit;
  if (syscall(SYS_capset, &hdr, data) != 0) return fail(op, "capset(raise inheritable)", errno);
  return ok(op, "capability " + std::to_string(cap) + " inheritable, not permitted");
}

// MAP_FIXED at address 0, below vm.mmap_min_addr (unless that is 0):
// cap_mmap_addr() lets it through only with CAP_SYS_RAWIO.
int op_mmap_low(const std::string& op, const Args&) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) return fail(op, "mmap(0, MAP_FIXED)", errno);
  munmap(p, 4096);
  return ok(op, "mapped page 0");
}

const std::map<std::string, std::function<int(const std::string&, const Args&)>>& operations() {
  static const std::map<std::string, std::function<int(const std::string&, const Args&)>> ops = {
      {"bind-tcp4-80", [](auto& op, auto& a) { return bind_port(op, AF_INET, SOCK_STREAM, port_arg(a, 80)); }},
      {"bind-tcp6-80", [](auto& op, auto& a) { return bind_port(op, AF_INET6, SOCK_STREAM, port_arg(a, 80)); }},
      {"bind-udp4-80", [](auto& op, auto& a) { return bind_port(op, AF_INET, SOCK_DGRAM, port_arg(a, 80)); }},
      {"bind-udp6-80", [](auto& op, auto& a) { return bind_port(op, AF_INET6, SOCK_DGRAM, port_arg(a, 80)); }},
      {"raw-socket", op_raw_socket},
      {"icmp-socket", op_icmp_socket},
      {"chown", op_chown},
      {"setuid", op_setuid},
      {"setgid", op_setgid},
      {"setgroups", op_setgroups},
      {"kill-other-uid", op_kill_other_uid},
      {"mknod-char", op_mknod_char},
      {"sethostname-uts", op_sethostname_uts},
      {"mount-tmpfs", op_mount_tmpfs},
      {"read-kallsyms", op_read_kallsyms},
      {"read-kmsg", op_read_kmsg},
      {"raise-hard-rlimit", op_raise_hard_rlimit},
      {"mlock-beyond", op_mlock_beyond},
      {"nice-10", op_nice_10},
      {"capset-drop", op_capset_drop},
      {"capset-inheritable", op_capset_inheritable},
      {"mmap-low", op_mmap_low},
      {"fork-exec", op_fork_exec},
      {"thread", op_thread},
      {"exec", op_exec},
      {"setuid-loop", op_setuid_loop},
      {"getppid-loop", op_getppid_loop},
      {"fork-loop", op_fork_loop},
      {"prefork", op_prefork},
      {"sleep", op_sleep},
      {"repeat", op_repeat},
  };
  return ops;
}

int run(const std::string& op, const Args& args) {
  auto it = operations().find(op);
  if (it == operations().end()) {
    std::fprintf(stderr, "%s: unknown operation '%s' (try --list)\n", kProgram, op.c_str());
    return 2;
  }
  return it->second(op, args);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr, "usage: %s OP [ARGS]   (--list for the operations; see README.md)\n", kProgram);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--list") == 0) {
    for (const auto& [name, fn] : operations()) std::printf("%s\n", name.c_str());
    return 0;
  }
  return run(argv[1], Args(argv + 2, argv + argc));
}
