// Syscall numbers <-> names per architecture, from libseccomp's tables (no
// hand-written table to keep current). Unknown numbers print as syscall_<n>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/syscall_nr.h"

namespace capaudit::common {

// arch is `uname -m` as stored in the trace header ("x86_64", "aarch64", ...);
// an empty or unknown arch means the architecture this binary was built for.
std::string syscall_name(int nr, std::string_view arch = {});
std::optional<int> syscall_number(std::string_view name, std::string_view arch = {});

// Resolves every number once up front; use it for per-event lookups.
class SyscallTable {
 public:
  explicit SyscallTable(std::string_view arch = {});
  std::string name(int nr) const;
  const std::string& arch() const { return arch_; }

 private:
  std::string arch_;
  std::vector<std::string> names_;  // index = syscall number; "" = unknown
};

// The syscalls capaudit's own code compares numbers with (common/syscall_nr.h,
// the table the BPF programs use too), and each one's number on ARCH: the
// table's column for x86_64 and aarch64 (arm64), libseccomp's number for
// another architecture it knows, nullopt where the syscall does not exist.
// An empty or unknown arch means this build's, as above.
enum class KnownSyscall {
#define CAPAUDIT_KNOWN_SYSCALL(NAME, name, x86_64, arm64) name,
  CAPAUDIT_SYSCALLS(CAPAUDIT_KNOWN_SYSCALL)
#undef CAPAUDIT_KNOWN_SYSCALL
};
inline constexpr KnownSyscall kKnownSyscalls[] = {
#define CAPAUDIT_KNOWN_SYSCALL(NAME, name, x86_64, arm64) KnownSyscall::name,
    CAPAUDIT_SYSCALLS(CAPAUDIT_KNOWN_SYSCALL)
#undef CAPAUDIT_KNOWN_SYSCALL
};
std::string_view known_syscall_name(KnownSyscall s);
std::optional<int32_t> known_syscall_nr(KnownSyscall s, std::string_view arch = {});

}  // namespace capaudit::common
