// Stage 1 of opening the BPF side: which capability hook works on this
// kernel. Each hook in the preferred order (tp_btf, fexit, kprobe) is loaded
// and attached alone with a tiny ring buffer, then thrown away: a cheap,
// honest answer to "does this hook work here?". Every hook lands in the
// attempts with its reason, so the trace and stderr say why one was skipped.
#pragma once

#include <vector>

#include "common/result.h"
#include "common/trace.h"
#include "record/bpf_config.h"
#include "record/load/programs.h"

namespace capaudit::record {

struct ProbeReport {
  common::Hook chosen = common::Hook::unknown;
  std::vector<common::HookAttempt> attempts;  // one per hook, in order; the chosen one `used`
  bool opts_available = false;                // the chosen hook gives cap_capable()'s opts
  // Whether trampolines (fexit) and kprobes attached here, whether or not
  // they were chosen; false as well when not tried (--hook).
  bool fexit_works = false;
  bool kprobe_works = false;
};

// How link facts can be taken on this kernel (programs.h LinkMethod), and
// the words for the trace: the method, or why there is none. Only with
// --facts sys_exit; from what the hook probe found (a trampoline or kprobe
// on cap_capable attached, so one on may_linkat will), and may_linkat in
// the kernel's BTF for fentry.
struct LinkChoice {
  LinkMethod method = LinkMethod::none;
  std::string reason;
};
LinkChoice choose_link_method(FactsChoice facts, const ProbeReport& probed);

// Fails (with every attempt's reason) when no requested hook works.
common::Result<ProbeReport> probe_hooks(HookChoice requested);

// Whether cap_capable()'s 4th parameter is `unsigned int opts` on this kernel,
// decided from BTF rather than the version number (it was `int audit` before 5.1).
bool kernel_cap_capable_has_opts();

}  // namespace capaudit::record
