// Starting and waiting for the programs an end-to-end test drives (the
// recorder, a workload) when the test needs the pid while it runs; use
// run_program() (tests/record/helper/run_helper.h) to run one to completion
// with its output.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace capaudit::test {

// Forks and execs ARGV with stdout and stderr on /dev/null. BEFORE_EXEC runs
// in the child first (join a cgroup, ...); the child exits 125 when it fails.
inline pid_t spawn_quiet(const std::vector<std::string>& argv,
                         const std::function<bool()>& before_exec = {}) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (before_exec && !before_exec()) _exit(125);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// The raw wait status of PID (-1 when it cannot be waited for).
inline int wait_status(pid_t pid) {
  int st = -1;
  waitpid(pid, &st, 0);
  return st;
}

// Polls COND every 20 ms until it holds or LIMIT passes.
inline bool wait_for(const std::function<bool()>& cond,
                     std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace capaudit::test
