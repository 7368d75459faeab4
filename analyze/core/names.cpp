#include "analyze/core/names.h"

#include <cap-ng.h>
#include <seccomp.h>

#include <algorithm>
#include <cctype>

namespace capaudit::analyze {

std::string cap_name(int cap) {
  const char* n = cap >= 0 ? capng_capability_to_name(static_cast<unsigned>(cap)) : nullptr;
  if (n == nullptr) return "CAP_" + std::to_string(cap);
  std::string out = "CAP_";
  for (const char* p = n; *p; ++p) out += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  return out;
}

std::optional<int> cap_from_name(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s.rfind("cap_", 0) == 0) s.erase(0, 4);
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    int v = std::stoi(s);
    return v < 64 ? std::optional<int>(v) : std::nullopt;
  }
  int v = capng_name_to_capability(s.c_str());
  return v >= 0 ? std::optional<int>(v) : std::nullopt;
}

std::string syscall_name(int32_t nr) {
  if (nr < 0) return "(none)";
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (n == nullptr) return "syscall_" + std::to_string(nr);
  std::string out(n);
  free(n);
  return out;
}

std::optional<int32_t> syscall_from_name(std::string_view name) {
  std::string s(name);
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, s.c_str());
  if (nr == __NR_SCMP_ERROR || nr < 0) return std::nullopt;
  return nr;
}

}  // namespace capaudit::analyze
