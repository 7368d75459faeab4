// libFuzzer target: one --sysctl KEY=VALUE flag, and the value checks every
// profile goes through. Accepted values of known keys must be readable by the
// rules as integers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analyze/core/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view flag(reinterpret_cast<const char*>(data), size);
  capaudit::analyze::Profile p;
  if (auto err = capaudit::analyze::parse_sysctl_flag(flag, p)) {
    for (unsigned char c : err->message)
      if (c < 0x20 || c >= 0x7f) std::abort();
    if (!p.empty()) std::abort();  // a refused flag sets nothing
    return 0;
  }
  for (const auto& [key, value] : p.values()) {
    if (capaudit::analyze::check_sysctl_value(key, value)) std::abort();  // accepted once, accepted again
    if (key == "net.ipv4.ip_unprivileged_port_start") {
      auto v = p.get_int(key);
      if (!v || *v < 0 || *v > 65535) std::abort();
    }
  }
  return 0;
}
