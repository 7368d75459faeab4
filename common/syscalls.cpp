#include "common/syscalls.h"

#include <seccomp.h>

#include <cstdlib>
#include <memory>

namespace capaudit::common {
namespace {

// uname -m spellings that libseccomp names differently.
uint32_t resolve_arch(std::string_view arch) {
  if (arch.empty()) return SCMP_ARCH_NATIVE;
  std::string a(arch);
  if (a == "i686" || a == "i586" || a == "i386") a = "x86";
  else if (a == "armv7l" || a == "armv6l") a = "arm";
  else if (a == "ppc64le") a = "ppc64le";
  uint32_t token = seccomp_arch_resolve_name(a.c_str());
  return token == 0 ? SCMP_ARCH_NATIVE : token;
}

std::string fallback(int nr) { return nr < 0 ? "no_syscall" : "syscall_" + std::to_string(nr); }

// Covers every architecture's table with room for growth; numbers above are
// still printed (as syscall_<n>), just not pre-resolved.
constexpr int kTableSize = 1024;

}  // namespace

std::string syscall_name(int nr, std::string_view arch) {
  if (nr < 0) return fallback(nr);
  std::unique_ptr<char, decltype(&std::free)> name(seccomp_syscall_resolve_num_arch(resolve_arch(arch), nr), &std::free);
  return name ? std::string(name.get()) : fallback(nr);
}

std::optional<int> syscall_number(std::string_view name, std::string_view arch) {
  int nr = seccomp_syscall_resolve_name_arch(resolve_arch(arch), std::string(name).c_str());
  if (nr < 0) return std::nullopt;  // __NR_SCMP_ERROR or a pseudo-syscall absent on this arch
  return nr;
}

SyscallTable::SyscallTable(std::string_view arch) : arch_(arch), names_(kTableSize) {
  uint32_t token = resolve_arch(arch);
  for (int nr = 0; nr < kTableSize; ++nr) {
    std::unique_ptr<char, decltype(&std::free)> name(seccomp_syscall_resolve_num_arch(token, nr), &std::free);
    if (name) names_[static_cast<size_t>(nr)] = name.get();
  }
}

std::string SyscallTable::name(int nr) const {
  if (nr >= 0 && nr < kTableSize && !names_[static_cast<size_t>(nr)].empty()) return names_[static_cast<size_t>(nr)];
  return fallback(nr);
}

}  // namespace capaudit::common
