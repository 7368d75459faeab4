// Stage 2 of opening the BPF side: the skeleton opened, configured and loaded
// into the kernel with the probed hook's programs. Optional programs never
// cost the recording: a load refused with them is tried again without (first
// without the cgroup fact programs, whose facts the syscall exit then carries,
// then without the probes on callers that inline cap_capable, then without
// both; the link-fact program last of all). Debian's 6.1 and 6.12 refuse the cgroup programs (EINVAL).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/trace.h"
#include "record/bpf_config.h"
#include "record/load/programs.h"

namespace capaudit::record {

struct LoadedPrograms {
  Skeleton skel;               // loaded, nothing attached yet
  uint64_t ringbuf_bytes = 0;  // the ring buffer's size (a power of two)
  // The cgroup fact programs were loaded: attach puts them on cgroup_root.
  bool cgroup_facts = false;
  std::string cgroup_root;     // the cgroup v2 hierarchy's root ("" when none is mounted)
  std::string facts_reason;    // why the facts come from the syscall exit, when they must
  std::string facts_note;      // " (without task storage, ...)" when that variant loaded
  std::vector<InlinedCaller> callers;        // caller probes loaded, to attach
  std::vector<std::string> caller_problems;  // callers left out, and why
  // The link-fact program loaded (none: not asked for, or refused at load,
  // said in link_reason), to attach.
  LinkMethod link_method = LinkMethod::none;
  std::string link_reason;
};

// Fails when not even the variant without optional programs loads. LINK:
// the link-fact program to load (choose_link_method()), with its reason.
common::Result<LoadedPrograms> load_programs(const BpfConfig& config, common::Hook chosen, LinkMethod link,
                                             const std::string& link_reason);

}  // namespace capaudit::record
