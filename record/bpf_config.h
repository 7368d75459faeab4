// What the recorder asks of the BPF side: the hook, the stack budget, the
// ring buffer, the filter, when outcomes and facts are taken. Filled from the
// options by plan (record/plan/plan.h); read by probe, load and attach.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "bpf/capaudit.h"
#include "common/result.h"

namespace capaudit::record {

enum class HookChoice : uint8_t { automatic, tp_btf, fexit, kprobe };

// "auto", "tp_btf", "fexit", "kprobe"; anything else fails (exit code 2).
common::Result<HookChoice> parse_hook_choice(const std::string& text);

// When denied-syscall outcomes are tracked. The syscall-exit tracepoint they
// need slows every syscall of every task on the host while it is attached.
enum class OutcomeMode : uint8_t { all, first_denial, off };
// "all", "first-denial", "off" (--outcomes); anything else fails (exit code 2).
common::Result<OutcomeMode> parse_outcome_mode(const std::string& text);

// Where bind()/socket() facts come from: cgroup programs when they attach
// (automatic), or the syscall-exit tracepoint (sees refused sockets and return
// values, at the host-wide cost above).
enum class FactsChoice : uint8_t { automatic, sys_exit };
// "auto", "sys_exit" (--facts); anything else fails (exit code 2).
common::Result<FactsChoice> parse_facts_choice(const std::string& text);

struct BpfConfig {
  HookChoice hook = HookChoice::automatic;
  uint32_t stacks_per_key = 4;
  // past the budget: distinct call paths per key that still take a stack (<= CAPAUDIT_PATH_SIGS)
  uint32_t paths_per_key = CAPAUDIT_PATH_SIGS;
  bool user_stacks = false;              // walk the user stack of each sampled check
  uint64_t ringbuf_bytes = 16ull << 20;  // rounded up to a power of two
  uint64_t cgroup_id = 0;                // 0: no cgroup filter
  std::string cgroup_path;               // the same cgroup (v2 directory), when cgroup_id is set
  pid_t recorder_tgid = 0;               // never traced
  OutcomeMode outcomes = OutcomeMode::first_denial;
  // first_denial: outcome windows (OutcomeTracking::in_windows) closed after
  // this long without a denial; 0 keeps the first one open to the end
  // (OutcomeTracking::from_first_denial).
  uint64_t outcome_window_ns = 0;
  FactsChoice facts = FactsChoice::automatic;
  bool verbose = false;                  // pass libbpf's own messages to stderr
};

}  // namespace capaudit::record
