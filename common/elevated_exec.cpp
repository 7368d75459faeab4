#include "common/elevated_exec.h"

#include <sys/auxv.h>
#include <unistd.h>

namespace capaudit::common {

std::optional<std::string> elevated_exec_reason(uint32_t uid, uint32_t euid, uint32_t gid, uint32_t egid,
                                                bool at_secure) {
  if (uid != euid) return "runs setuid (real uid " + std::to_string(uid) + ", effective uid " + std::to_string(euid) + ")";
  if (gid != egid) return "runs setgid (real gid " + std::to_string(gid) + ", effective gid " + std::to_string(egid) + ")";
  if (at_secure) return std::string("was given privileges its caller does not hold (file capabilities or a setuid/setgid exec)");
  return std::nullopt;
}

std::optional<std::string> elevated_exec_reason() {
  return elevated_exec_reason(getuid(), geteuid(), getgid(), getegid(), getauxval(AT_SECURE) != 0);
}

}  // namespace capaudit::common
