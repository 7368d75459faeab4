// Whether this process was started with privileges its caller does not hold.
// The privileged tools (capaudit-record, the capaudit front command) refuse to
// run from such an exec: a setuid or file-capability copy would let its
// caller record the whole host, write trace files as root anywhere and drive
// the launcher's user switch. Only root (or sudo, or a unit that grants the
// capabilities) may run them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace capaudit::common {

// The reason to refuse (setuid/setgid bits, or file capabilities that raised
// the process above its caller: the kernel's AT_SECURE), nullopt when the
// exec was ordinary.
std::optional<std::string> elevated_exec_reason(uint32_t uid, uint32_t euid, uint32_t gid, uint32_t egid,
                                                bool at_secure);
std::optional<std::string> elevated_exec_reason();  // this process (getauxval(AT_SECURE))

}  // namespace capaudit::common
