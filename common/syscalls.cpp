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
  else if (a == "arm64") a = "aarch64";
  else if (a == "amd64") a = "x86_64";
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

namespace {

struct KnownRow {
  const char* name;
  int32_t x86_64, arm64;
};
constexpr KnownRow kKnownRows[] = {
#define CAPAUDIT_KNOWN_ROW(NAME, name, x86_64, arm64) {#name, x86_64, arm64},
    CAPAUDIT_SYSCALLS(CAPAUDIT_KNOWN_ROW)
#undef CAPAUDIT_KNOWN_ROW
};

const KnownRow& row_of(KnownSyscall s) { return kKnownRows[static_cast<size_t>(s)]; }

}  // namespace

std::string_view known_syscall_name(KnownSyscall s) { return row_of(s).name; }

std::optional<int32_t> known_syscall_nr(KnownSyscall s, std::string_view arch) {
  const KnownRow& r = row_of(s);
  switch (resolve_arch(arch) == SCMP_ARCH_NATIVE ? seccomp_arch_native() : resolve_arch(arch)) {
    case SCMP_ARCH_X86_64: return r.x86_64 < 0 ? std::nullopt : std::optional<int32_t>(r.x86_64);
    case SCMP_ARCH_AARCH64: return r.arm64 < 0 ? std::nullopt : std::optional<int32_t>(r.arm64);
    default: break;
  }
  auto nr = syscall_number(r.name, arch);
  if (!nr) return std::nullopt;
  return *nr;
}

}  // namespace capaudit::common
