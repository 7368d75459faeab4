// libFuzzer target: Kubernetes manifests and compose files (YAML), as
// check --against / report --declared read them. Alias bombs, cycles and deep
// nesting must end in an error, never in a crash, a hang or a memory blow-up
// (run with -timeout and -rss_limit_mb).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analyze/config/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)capaudit::analyze::grant_from_manifest(text, "fuzz.yaml");
  return 0;
}
