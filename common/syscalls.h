// Syscall numbers <-> names per architecture, from libseccomp's tables (no
// hand-written table to keep current). Unknown numbers print as syscall_<n>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace capaudit::common
