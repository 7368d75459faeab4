#include "record/launch_held.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace capaudit::record {

std::unique_ptr<HeldChild> HeldChild::spawn(const Options& options) {
  if (!options.user.empty() || !options.caps.empty())
    throw common::Error("--user/--caps are not available in this build yet", "", 2);
  if (options.argv.empty()) throw common::Error("empty command", "", 2);
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw common::Error(common::errno_message("pipe", errno));
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw common::Error(common::errno_message("fork", errno));
  if (pid == 0) {
    close(go[1]);
    close(err[0]);
    char c;
    // Only async-signal-safe calls from here: we are a fork of the recorder.
    if (read(go[0], &c, 1) != 1) _exit(127);  // the recorder gave up on us
    execvp(argv[0], argv.data());
    int e = errno;
    (void)!write(err[1], &e, sizeof(e));
    _exit(127);
  }
  close(go[0]);
  close(err[1]);
  auto child = std::unique_ptr<HeldChild>(new HeldChild());
  child->pid_ = pid;
  child->go_fd_ = go[1];
  child->err_fd_ = err[0];
  return child;
}

HeldChild::~HeldChild() {
  if (go_fd_ >= 0) close(go_fd_);
  if (err_fd_ >= 0) close(err_fd_);
  if (!released_ && !reaped_ && pid_ > 0) {
    // Closing go_fd_ already makes it exit; reap it so no zombie is left.
    int st;
    waitpid(pid_, &st, 0);
  }
}

void HeldChild::release() {
  char c = 1;
  if (write(go_fd_, &c, 1) != 1) throw common::Error(common::errno_message("starting the command", errno));
  close(go_fd_);
  go_fd_ = -1;
  released_ = true;
  int e = 0;
  ssize_t n = read(err_fd_, &e, sizeof(e));
  close(err_fd_);
  err_fd_ = -1;
  if (n == sizeof(e)) {
    int st;
    waitpid(pid_, &st, 0);
    reaped_ = true;
    throw common::Error(common::errno_message("exec", e), "check the command name and PATH", 127);
  }
}

std::optional<int> HeldChild::try_wait() {
  if (reaped_) return std::nullopt;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    return st;
  }
  return std::nullopt;
}

void HeldChild::signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

}  // namespace capaudit::record
