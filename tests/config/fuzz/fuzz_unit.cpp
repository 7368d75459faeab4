// libFuzzer target: systemd units and capability list files, as
// check --against / report --declared read them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "analyze/config/check.h"
#include "common/systemd_unit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto unit = capaudit::common::parse_service_unit(text);
  if (auto* u = std::get_if<capaudit::common::ServiceUnit>(&unit)) {
    if (u->warnings.size() > 21) __builtin_trap();
    (void)capaudit::analyze::grant_from_unit(*u, "fuzz.service");
  }
  (void)capaudit::analyze::grant_from_deployment(text, "fuzz.service");
  (void)capaudit::analyze::grant_from_deployment(text, "fuzz.list");
  return 0;
}
