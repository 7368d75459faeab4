// Which programs of the generated skeleton make up each capability hook, the
// cgroup fact source and the probes on callers that inline cap_capable(): the
// one place that knows the skeleton's program names, for probe, load and
// attach alike.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/trace.h"

struct capaudit_bpf;  // generated skeleton
struct bpf_program;
struct bpf_link;

namespace capaudit::record {

struct SkeletonDeleter {
  void operator()(capaudit_bpf* s) const;
};
// The skeleton, destroyed (every program detached, every map closed) once.
using Skeleton = std::unique_ptr<capaudit_bpf, SkeletonDeleter>;

// The programs implementing HOOK (kprobe needs its return probe too).
std::vector<bpf_program*> hook_programs(capaudit_bpf* skel, common::Hook hook);
// Every capability hook program, whichever hook it belongs to.
std::vector<bpf_program*> all_hook_programs(capaudit_bpf* skel);
// The cgroup programs that record bind()/socket() facts.
std::vector<bpf_program*> fact_programs(capaudit_bpf* skel);

// GCC inlines cap_capable() into cap_capset(), cap_mmap_addr() and
// cap_vm_enough_memory() on Debian's 6.1/6.12 kernels, hiding their checks
// from fexit/kprobe on cap_capable. The BPF side probes those callers (real
// functions: LSM hooks) and rebuilds the check once when the hook did not see
// it. The tracepoint fires inside inlined copies and needs none of it.
struct InlinedCaller {
  const char* function;
  bpf_program* entry;
  bpf_program* exit;
  bpf_link** entry_link;
  bpf_link** exit_link;
};
// The caller probes that go with HOOK (fexit: fentry+fexit; kprobe:
// kprobe+kretprobe; none for the others).
std::vector<InlinedCaller> inlined_callers(capaudit_bpf* skel, common::Hook hook);
bool is_inlined_caller_program(capaudit_bpf* skel, bpf_program* prog);

// How link facts are taken at fs/namei.c may_linkat() (--facts sys_exit):
// a trampoline (fentry) where the kernel allows it, else a kprobe; none
// where it allows neither (the tracepoint-only 6.18 host).
enum class LinkMethod : uint8_t { none, fentry, kprobe };
struct LinkProgram {
  bpf_program* prog = nullptr;  // null for none
  bpf_link** link = nullptr;
  const char* name = "";        // "fentry/may_linkat"
};
LinkProgram link_program(capaudit_bpf* skel, LinkMethod method);
// Both link-fact programs, whichever method is chosen.
std::vector<bpf_program*> all_link_programs(capaudit_bpf* skel);

}  // namespace capaudit::record
