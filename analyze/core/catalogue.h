// The noise catalogue: kernel functions whose capability checks gate nothing
// a service needs (analyze/data/noise_paths.conf).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/core/profile.h"

namespace capaudit::analyze {

struct NoiseEntry {
  std::string function;  // kernel function on the call path
  int cap = -1;          // -1 = any capability
  std::string meaning;
};

struct NoiseFallback {
  int cap = -1;
  int32_t syscall_nr = -1;  // this build's number; a trace's depends on its arch (match_fallback)
  std::string syscall;
  std::string meaning;
};

struct Catalogue {
  std::vector<NoiseEntry> functions;
  std::vector<NoiseFallback> fallbacks;

  // The entry matching a call path (frames innermost first, "fn+0x1a/0x40" or "fn").
  const NoiseEntry* match(int cap, const std::vector<std::string>& frames) const;
  // SYSCALL_NR is a number on ARCH, the trace's architecture (empty: this build's).
  const NoiseFallback* match_fallback(int cap, int32_t syscall_nr, std::string_view arch) const;
};

struct CatalogueParse {
  Catalogue catalogue;
  std::vector<ParseError> errors;
};

CatalogueParse parse_catalogue(std::string_view text);
const Catalogue& builtin_catalogue();

// "security_vm_enough_memory_mm+0x5c/0x1a0" -> "security_vm_enough_memory_mm"
std::string_view frame_function(std::string_view frame);

}  // namespace capaudit::analyze
