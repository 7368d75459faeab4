#include "record/load/programs.h"

#include <bpf/libbpf.h>

#include "capaudit.skel.h"

namespace capaudit::record {

void SkeletonDeleter::operator()(capaudit_bpf* s) const { capaudit_bpf__destroy(s); }

std::vector<bpf_program*> hook_programs(capaudit_bpf* skel, common::Hook hook) {
  switch (hook) {
    case common::Hook::tp_btf: return {skel->progs.tp_cap_capable};
    case common::Hook::fexit: return {skel->progs.fexit_cap_capable};
    case common::Hook::kprobe: return {skel->progs.kprobe_cap_capable, skel->progs.kretprobe_cap_capable};
    default: return {};
  }
}

std::vector<bpf_program*> all_hook_programs(capaudit_bpf* skel) {
  return {skel->progs.tp_cap_capable, skel->progs.fexit_cap_capable, skel->progs.kprobe_cap_capable,
          skel->progs.kretprobe_cap_capable};
}

std::vector<bpf_program*> fact_programs(capaudit_bpf* skel) {
  return {skel->progs.facts_bind4, skel->progs.facts_bind6, skel->progs.facts_sock_create};
}

std::vector<InlinedCaller> inlined_callers(capaudit_bpf* skel, common::Hook hook) {
  auto& p = skel->progs;
  auto& l = skel->links;
  if (hook == common::Hook::fexit)
    return {{"cap_capset", p.fentry_cap_capset, p.fexit_cap_capset, &l.fentry_cap_capset, &l.fexit_cap_capset},
            {"cap_mmap_addr", p.fentry_cap_mmap_addr, p.fexit_cap_mmap_addr, &l.fentry_cap_mmap_addr,
             &l.fexit_cap_mmap_addr},
            {"cap_vm_enough_memory", p.fentry_cap_vm_enough_memory, p.fexit_cap_vm_enough_memory,
             &l.fentry_cap_vm_enough_memory, &l.fexit_cap_vm_enough_memory}};
  if (hook == common::Hook::kprobe)
    return {{"cap_capset", p.kprobe_cap_capset, p.kretprobe_cap_capset, &l.kprobe_cap_capset,
             &l.kretprobe_cap_capset},
            {"cap_mmap_addr", p.kprobe_cap_mmap_addr, p.kretprobe_cap_mmap_addr, &l.kprobe_cap_mmap_addr,
             &l.kretprobe_cap_mmap_addr},
            {"cap_vm_enough_memory", p.kprobe_cap_vm_enough_memory, p.kretprobe_cap_vm_enough_memory,
             &l.kprobe_cap_vm_enough_memory, &l.kretprobe_cap_vm_enough_memory}};
  return {};
}

LinkProgram link_program(capaudit_bpf* skel, LinkMethod method) {
  switch (method) {
    case LinkMethod::fentry: return {skel->progs.fentry_may_linkat, &skel->links.fentry_may_linkat, "fentry/may_linkat"};
    case LinkMethod::kprobe: return {skel->progs.kprobe_may_linkat, &skel->links.kprobe_may_linkat, "kprobe/may_linkat"};
    case LinkMethod::none: break;
  }
  return {};
}

std::vector<bpf_program*> all_link_programs(capaudit_bpf* skel) {
  return {skel->progs.fentry_may_linkat, skel->progs.kprobe_may_linkat};
}

bool is_inlined_caller_program(capaudit_bpf* skel, bpf_program* prog) {
  for (auto hook : {common::Hook::fexit, common::Hook::kprobe})
    for (const auto& c : inlined_callers(skel, hook))
      if (c.entry == prog || c.exit == prog) return true;
  return false;
}

}  // namespace capaudit::record
