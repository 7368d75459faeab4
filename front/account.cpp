#include "front/account.h"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "common/systemd_unit.h"

namespace capaudit::front {

std::string Account::why() const {
  return sudo_user ? "the sudo user" : "nobody: not started through sudo by a non-root user";
}

Account analysis_account() {
  Account a;
  const char* su = std::getenv("SUDO_UID");
  const char* sg = std::getenv("SUDO_GID");
  if (su && sg) {
    auto uid = common::parse_unit_id(su);
    auto gid = common::parse_unit_id(sg);
    if (std::holds_alternative<uint32_t>(uid) && std::holds_alternative<uint32_t>(gid) && std::get<uint32_t>(uid) != 0) {
      a.uid = std::get<uint32_t>(uid);
      a.gid = std::get<uint32_t>(gid);
      a.sudo_user = true;
    }
  }
  return a;
}

bool become(const Account& as) {
  return setgroups(0, nullptr) == 0 && setresgid(as.gid, as.gid, as.gid) == 0 && setresuid(as.uid, as.uid, as.uid) == 0 &&
         getuid() == as.uid && geteuid() == as.uid && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && chdir("/") == 0;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

}  // namespace capaudit::front
