#include "analyze/core/names.h"

#include "common/capabilities.h"
#include "common/syscalls.h"

namespace capaudit::analyze {

std::string cap_name(int cap) { return common::cap_name(cap); }

std::optional<int> cap_from_name(std::string_view name) { return common::parse_cap(name); }

std::string syscall_name(int32_t nr, std::string_view arch) { return nr < 0 ? "(none)" : common::syscall_name(nr, arch); }

std::optional<int32_t> syscall_from_name(std::string_view name, std::string_view arch) {
  return common::syscall_number(name, arch);
}

}  // namespace capaudit::analyze
