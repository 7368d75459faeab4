// Runs a program as a child and measures what it cost: wall time and peak
// memory (ru_maxrss from wait4). For the bounded-cost tests of hostile
// input: the bounds asserted are loose (seconds, hundreds of MiB), so they
// fail only when cost is unbounded, not when the host is busy.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

namespace capaudit::test {

struct Measured {
  int status = -1;         // exit code, or 128 + signal (killed at the time limit: 128 + SIGKILL)
  double seconds = 0;
  long max_rss_kb = 0;
  std::string out;         // stdout and stderr together
  bool timed_out = false;
};

// argv[0] is a path. The child is killed after `limit_seconds` (the test
// then fails on `timed_out` rather than hanging the suite).
inline Measured run_measured(const std::vector<std::string>& argv, double limit_seconds = 30) {
  Measured m;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return m;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return m;
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  int st = 0;
  rusage ru{};
  for (;;) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) m.out.append(buf, static_cast<size_t>(n));
    const pid_t w = ::wait4(pid, &st, WNOHANG, &ru);
    if (w == pid) break;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > limit_seconds && !m.timed_out) {
      m.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    ::usleep(2000);
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) m.out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.max_rss_kb = ru.ru_maxrss;
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return m;
}

// Whether every byte is printable ASCII or a newline: what a message shows
// of hostile input must not reach a terminal raw.
inline bool all_visible(const std::string& s) {
  for (unsigned char c : s)
    if (c != '\n' && (c < 0x20 || c >= 0x7f)) return false;
  return true;
}

}  // namespace capaudit::test
