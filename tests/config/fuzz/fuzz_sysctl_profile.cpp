// libFuzzer target: sysctl.conf profiles (--sysctl-profile, named profiles).
// Any crash, sanitizer report or escaped exception is a bug; every message
// must show the input's bytes escaped.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analyze/core/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = capaudit::analyze::parse_sysctl_conf(text);
  if (parsed.errors.size() > capaudit::analyze::kMaxProfileErrors + 1) std::abort();
  for (const auto& e : parsed.errors)
    for (unsigned char c : e.message)
      if (c < 0x20 || c >= 0x7f) std::abort();  // raw bytes in a message
  (void)capaudit::analyze::check_profile_values(parsed.profile);
  return 0;
}
