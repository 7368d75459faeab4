#include "record/host/launch.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>

#include "record/host/privileges.h"

namespace capaudit::record {

namespace {

// What the child sends back through the CLOEXEC pipe when it cannot exec.
enum class Stage : int32_t { exec = 0, setgroups, setgid, setuid, keepcaps, bounding, caps, no_new_privs };
struct ChildFailure {
  Stage stage = Stage::exec;
  int32_t err = 0;
  char detail[32] = {};
};

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Only async-signal-safe calls below: the parent may have threads.
[[noreturn]] void child_fail(int fd, Stage stage, int err, const char* detail = "") {
  ChildFailure f;
  f.stage = stage;
  f.err = err;
  for (size_t i = 0; detail[i] && i + 1 < sizeof f.detail; ++i) f.detail[i] = detail[i];
  ssize_t ignored = write(fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

struct ChildPlan {
  std::vector<char*> argv;
  const char* exec_path = nullptr;
  bool no_new_privs = false;
  bool stdout_to_stderr = false;
  const UserSpec* user = nullptr;
  std::vector<gid_t> groups;
  bool set_caps = false;
  RawCapRequest caps;
  pid_t parent = 0;
};

[[noreturn]] void run_child(const ChildPlan& plan, int go_fd, int error_fd) {
  // Our forwarding handlers and ignored SIGPIPE must not leak into the command.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // A recorder that dies before go() must not leave the command behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != plan.parent) _exit(127);
  char go = 0;
  ssize_t n;
  do {
    n = read(go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(127);  // the recorder gave up on us: quietly leave
  close(go_fd);

  if (plan.set_caps) {
    // Bounding first: narrowing it needs CAP_SETPCAP, gone after setuid.
    for (int cap = 0; cap <= plan.caps.last_cap && cap < 64; ++cap) {
      if (plan.caps.bounding & (uint64_t{1} << cap)) continue;
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
        child_fail(error_fd, Stage::bounding, errno);
    }
    if (plan.user && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child_fail(error_fd, Stage::keepcaps, errno);
  }
  if (plan.user) {
    if (setgroups(plan.groups.size(), plan.groups.data()) != 0) child_fail(error_fd, Stage::setgroups, errno);
    if (setresgid(plan.user->gid, plan.user->gid, plan.user->gid) != 0) child_fail(error_fd, Stage::setgid, errno);
    if (setresuid(plan.user->uid, plan.user->uid, plan.user->uid) != 0) child_fail(error_fd, Stage::setuid, errno);
  }
  if (plan.set_caps) {
    RawCapRequest req = plan.caps;
    req.bounding = ~uint64_t{0};  // already narrowed above
    RawCapFailure failure;
    if (!install_caps_raw(req, &failure)) child_fail(error_fd, Stage::caps, failure.err, failure.stage);
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }
  if (plan.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_fail(error_fd, Stage::no_new_privs, errno);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (plan.stdout_to_stderr) dup2(STDERR_FILENO, STDOUT_FILENO);
  execvp(plan.exec_path ? plan.exec_path : plan.argv[0], plan.argv.data());
  child_fail(error_fd, Stage::exec, errno);
}

std::string describe(const ChildFailure& f, const std::string& command, const LaunchOptions& opts) {
  std::string why = std::strerror(f.err);
  std::string user = opts.user ? opts.user->name + " (uid " + std::to_string(opts.user->uid) + ")" : "";
  switch (f.stage) {
    case Stage::exec:
      return "cannot run " + command + ": " + why;
    case Stage::setgroups:
      return "cannot switch to user " + user + ": setgroups: " + why;
    case Stage::setgid:
      return "cannot switch to user " + user + ": setgid: " + why;
    case Stage::setuid:
      return "cannot switch to user " + user + ": setuid: " + why;
    case Stage::no_new_privs:
      return "cannot set no_new_privs for " + command + ": " + why;
    case Stage::keepcaps:
      return "cannot give " + command + " " + cap_list(opts.caps.value_or(0)) + ": keepcaps: " + why;
    case Stage::bounding:
      return "cannot give " + command + " " + cap_list(opts.caps.value_or(0)) + ": drop bounding set: " + why;
    case Stage::caps:
      return "cannot give " + command + " " + cap_list(opts.caps.value_or(0)) + ": " + f.detail + ": " + why;
  }
  return "cannot run " + command + ": " + why;
}

}  // namespace

common::Result<UserSpec> resolve_user(const std::string& spec) {
  const std::string hint = "give a user name or a numeric uid";
  UserSpec user;
  passwd pw{}, *found = nullptr;
  std::vector<char> buf(16384);
  bool numeric = !spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    unsigned long uid = std::strtoul(spec.c_str(), nullptr, 10);
    if (uid >= UINT32_MAX) {
      return common::fail("invalid uid '" + spec + "'", hint, 2);
    }
    getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found);
    if (!found) {
      user.name = spec;
      user.uid = user.gid = static_cast<uint32_t>(uid);
      return user;
    }
  } else {
    getpwnam_r(spec.c_str(), &pw, buf.data(), buf.size(), &found);
    if (!found) {
      return common::fail("unknown user '" + spec + "' (no passwd entry; a numeric uid is accepted too)", hint, 2);
    }
  }
  user.name = found->pw_name;
  user.uid = found->pw_uid;
  user.gid = found->pw_gid;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0)
    groups.resize(static_cast<size_t>(count));
  groups.resize(static_cast<size_t>(count));
  user.groups.assign(groups.begin(), groups.end());
  return user;
}

common::Result<std::unique_ptr<Launcher>> Launcher::start(const LaunchOptions& opts) {
  auto set_error = [](std::string msg) { return common::fail(std::move(msg), "", 2); };
  if (opts.argv.empty()) return set_error("no command to run");

  ChildPlan plan;
  for (const auto& a : opts.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  if (!opts.exec_path.empty()) plan.exec_path = opts.exec_path.c_str();
  plan.no_new_privs = opts.no_new_privs;
  plan.stdout_to_stderr = opts.stdout_to_stderr;
  plan.parent = getpid();
  if (opts.user) {
    plan.user = &*opts.user;
    plan.groups.assign(opts.user->groups.begin(), opts.user->groups.end());
  }
  if (opts.caps) {
    common::CapSets now = current_caps();
    uint64_t lacking = *opts.caps & ~now.permitted;
    if (lacking)
      return set_error("cannot give the command " + cap_list(lacking) +
                       ": this recorder does not hold them (its permitted set is " + cap_list(now.permitted) + ")");
    if (!(now.effective & (uint64_t{1} << CAP_SETPCAP)))
      return set_error("--caps needs cap_setpcap to narrow the command's bounding set (run the recorder as root)");
    plan.set_caps = true;
    plan.caps.last_cap = last_cap();
    plan.caps.bounding = *opts.caps | opts.bounding.value_or(0);
    plan.caps.effective = plan.caps.permitted = plan.caps.inheritable = plan.caps.ambient = *opts.caps;
  }

  // The go channel is a socket so go() can send with MSG_NOSIGNAL: a child
  // that died before go() must give an error, not a SIGPIPE that kills us.
  int go_pipe[2], error_pipe[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go_pipe) != 0)
    return set_error(std::string("socketpair: ") + std::strerror(errno));
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    close(go_pipe[0]);
    close(go_pipe[1]);
    return set_error(std::string("pipe: ") + std::strerror(err));
  }
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {go_pipe[0], go_pipe[1], error_pipe[0], error_pipe[1]}) close(fd);
    return set_error(std::string("cannot start ") + opts.argv[0] + ": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    close(go_pipe[1]);
    close(error_pipe[0]);
    run_child(plan, go_pipe[0], error_pipe[1]);
  }
  close(go_pipe[0]);
  close(error_pipe[1]);

  std::unique_ptr<Launcher> launcher(new Launcher());
  launcher->pid_ = pid;
  launcher->go_fd_ = go_pipe[1];
  launcher->error_fd_ = error_pipe[0];
  launcher->command_ = opts.exec_path.empty() ? opts.argv[0] : opts.exec_path;
  launcher->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (launcher->pidfd_ >= 0) fcntl(launcher->pidfd_, F_SETFD, FD_CLOEXEC);
  launcher->user_ = opts.user;
  launcher->caps_ = opts.caps;
  return launcher;
}

common::Result<> Launcher::go() {
  auto failed = [](std::string msg) { return common::fail(std::move(msg), "check the command name and PATH", 127); };
  if (go_fd_ < 0) return failed("the command was already released");
  char go = 'g';
  ssize_t written;
  do {
    written = send(go_fd_, &go, 1, MSG_NOSIGNAL);
  } while (written < 0 && errno == EINTR);
  int write_err = errno;
  close_fd(go_fd_);
  if (written != 1) {
    close_fd(error_fd_);
    int status = wait();
    return failed("cannot run " + command_ + ": its process ended before it was released (" +
                  (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                       : std::string(std::strerror(write_err))) +
                  ")");
  }

  ChildFailure failure;
  size_t got = 0;
  while (got < sizeof failure) {
    ssize_t n = read(error_fd_, reinterpret_cast<char*>(&failure) + got, sizeof failure - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close_fd(error_fd_);
  if (got == 0) return {};  // the pipe closed at a successful exec
  LaunchOptions opts;
  opts.user = user_;
  opts.caps = caps_;
  std::string message = got == sizeof failure ? describe(failure, command_, opts)
                                              : "cannot run " + command_ + ": lost contact with the child";
  wait();
  return failed(message);
}

std::optional<int> Launcher::try_wait() {
  if (status_) return status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) status_ = status;
  return status_;
}

int Launcher::wait() {
  if (status_) return *status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  // ECHILD: someone else reaped it; report it as killed rather than hang.
  status_ = r == pid_ ? status : (SIGKILL & 0x7f);
  return *status_;
}

void Launcher::signal(int sig) {
  if (!status_ && pid_ > 0) kill(pid_, sig);
}

Launcher::~Launcher() {
  close_fd(go_fd_);
  close_fd(error_fd_);
  if (!detached_ && !try_wait()) {
    kill(pid_, SIGKILL);
    wait();
  }
  close_fd(pidfd_);
}

namespace {

// Process-wide by nature: a signal handler can only reach globals.
volatile sig_atomic_t g_target = 0;
volatile sig_atomic_t g_last_signal = 0;
volatile sig_atomic_t g_signal_count = 0;
struct sigaction g_previous[2];
constexpr int kForwarded[2] = {SIGINT, SIGTERM};

void forward(int sig, siginfo_t* info, void*) {
  int saved_errno = errno;
  g_last_signal = sig;
  g_signal_count = g_signal_count + 1;
  pid_t target = g_target;
  bool from_terminal = info && info->si_code == SI_KERNEL;
  bool from_target = info && info->si_pid == target;
  if (target > 0 && !from_terminal && !from_target) kill(target, sig);
  errno = saved_errno;
}

}  // namespace

SignalForwarder::SignalForwarder(pid_t target) {
  g_target = target;
  g_last_signal = 0;
  g_signal_count = 0;
  struct sigaction sa {};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: the recording loop must wake up
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 2; ++i) sigaction(kForwarded[i], &sa, &g_previous[i]);
}

SignalForwarder::~SignalForwarder() {
  for (int i = 0; i < 2; ++i) sigaction(kForwarded[i], &g_previous[i], nullptr);
  g_target = 0;
}

void SignalForwarder::set_target(pid_t target) { g_target = target; }
int SignalForwarder::last_signal() { return g_last_signal; }
int SignalForwarder::count() { return g_signal_count; }

}  // namespace capaudit::record
