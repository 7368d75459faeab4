// Who the front command (capaudit, capaudit verify) runs its unprivileged
// steps as, and how a forked child becomes that account. The rule is
// written once here: the trace is untrusted input (the traced program chose
// much of it), so the analysis never runs as root.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <utility>

namespace capaudit::front {

struct Account {
  uid_t uid = 65534;
  gid_t gid = 65534;
  bool sudo_user = false;  // else nobody, for root who started us directly
  // For -v: "the sudo user", or why nobody.
  std::string why() const;
};

// The invoking user when started through sudo by a non-root user
// (SUDO_UID/SUDO_GID, both valid ids), otherwise nobody (65534:65534).
Account analysis_account();

// In a forked child, before exec: drop supplementary groups, gid and uid for
// good, set no_new_privs, leave for "/". Fails closed: false (errno set) when
// any step did not take; the caller must then _exit.
bool become(const Account& account);

// waitpid, retried on EINTR: the wait status, or -1.
int wait_for(pid_t pid);

// An owned file descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace capaudit::front
