// Capability and syscall names as the analyzer prints them. A thin seam over
// the shared tables so every renderer spells names the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capaudit::analyze {

std::string cap_name(int cap);                               // "CAP_CHOWN", "CAP_63"
std::optional<int> cap_from_name(std::string_view name);     // CAP_CHOWN, cap_chown, CHOWN
// Syscall numbers mean something else on each architecture: ARCH is the
// trace's (Header::arch, `uname -m`); empty means this build's.
std::string syscall_name(int32_t nr, std::string_view arch);  // "bind", "syscall_999", "(none)"
std::optional<int32_t> syscall_from_name(std::string_view name, std::string_view arch);

}  // namespace capaudit::analyze
