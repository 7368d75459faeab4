// Which denied checks may switch on denied-syscall outcome tracking. Tracking
// attaches the syscall-exit tracepoint, which sends every syscall of every
// task on the host down the kernel's slow path, so a denial that cannot
// matter must never start it: one the kernel made with CAP_OPT_NOAUDIT (the
// hooks that give opts), or one on a call path the analyzer's noise
// catalogue calls advisory (analyze/data/noise_paths.conf, read at build
// time) — the overcommit heuristic that every process which has dropped root
// asks in mmap()/brk() is both.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "record/drain/event_decode.h"
#include "record/drain/kernel_stacks.h"

namespace capaudit::record {

struct NoiseFunction {
  std::string function;  // a kernel function on the check's call path
  int cap = -1;          // the capability it covers; -1: any
};

// The [function] entries of analyze/data/noise_paths.conf.
const std::vector<NoiseFunction>& noise_functions();

class AdvisoryDenials {
 public:
  explicit AdvisoryDenials(const KernelSymbols& symbols, std::vector<NoiseFunction> noise = noise_functions())
      : symbols_(symbols), noise_(std::move(noise)) {}

  // D is a denied check; OPTS_AVAILABLE: the hook gives opts. A check without
  // a stack (past the per-key budget) is advisory when every check of the
  // same thread, capability and syscall that had one was; with no stack ever
  // (--stacks-per-key 0, or a failed walk) it is taken to matter.
  bool is_advisory(const DecodedCheck& d, bool opts_available);
  // The thread ended: its memory goes (long recordings stay flat).
  void forget(uint32_t tid) { sampled_.erase(tid); }

  // Whether STACK (raw return addresses) passes through a catalogued function for CAP.
  bool on_noise_path(int cap, std::span<const uint64_t> stack) const;

 private:
  const KernelSymbols& symbols_;
  std::vector<NoiseFunction> noise_;
  // tid -> (cap, syscall) -> every sampled stack of that key was advisory
  std::map<uint32_t, std::map<std::pair<int32_t, int32_t>, bool>> sampled_;
};

}  // namespace capaudit::record
