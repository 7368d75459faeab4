// Test-side runner for capaudit-test-helper (and any other program): runs it,
// captures stdout/stderr and the wait status. Header-only so every record test
// program can use it without another library.
#pragma once

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace capaudit::test {

struct RunResult {
  int status = -1;  // raw wait status
  std::string out;
  std::string err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

#ifdef CAPAUDIT_TEST_HELPER
inline const char* helper_path() { return CAPAUDIT_TEST_HELPER; }
#endif

inline bool running_as_root() { return geteuid() == 0; }

// Sets no capabilities at all for the exec that follows, uid 0 included: an
// empty bounding set stops root's exec from regaining the full set.
inline bool drop_every_capability_for_exec() {
  int last = 40;
  std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
  for (int cap = 0; cap <= last; ++cap)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return false;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  return syscall(SYS_capset, &hdr, data) == 0;
}

struct RunOptions {
  bool drop_all_caps = false;
  // Runs in the child before exec (after the optional cap drop); return false to abort.
  bool (*before_exec)() = nullptr;
};

inline RunResult run_program(const std::vector<std::string>& argv, const RunOptions& opts = {}) {
  RunResult result;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (opts.before_exec && !opts.before_exec()) _exit(126);
    if (opts.drop_all_caps && !drop_every_capability_for_exec()) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  waitpid(pid, &result.status, 0);
  return result;
}

// Runs fn in a forked child (so irreversible changes such as dropping
// capabilities or setns stay there) and returns what fn returned; a crash or
// an exception comes back as a message. Keep fn free of gtest assertions.
inline std::string run_in_child(const std::function<std::string()>& fn) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    close(p[0]);
    std::string out;
    try {
      out = fn();
    } catch (const std::exception& e) {
      out = std::string("exception: ") + e.what();
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(p[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "child died with status " + std::to_string(status) + "; output: " + out;
  return out;
}

}  // namespace capaudit::test
