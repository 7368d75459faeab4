#include "record/load/load.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdio>

#include "capaudit.skel.h"
#include "record/load/libbpf_log.h"

namespace capaudit::record {
namespace {

uint64_t round_up_pow2(uint64_t v) {
  uint64_t p = 4096;
  while (p < v) p <<= 1;
  return p;
}

// The root of the cgroup v2 hierarchy: programs attached there see every task.
std::string cgroup2_root() {
  for (const char* path : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return path;
  }
  return {};
}

// The live value is read in BPF from the kernel's dac_mmap_min_addr when
// kallsyms shows it; this is the fallback (the sysctl's data is that variable).
uint64_t read_mmap_min_addr() {
  uint64_t v = 65536;
  if (FILE* f = fopen("/proc/sys/vm/mmap_min_addr", "r")) {
    unsigned long long x;
    if (fscanf(f, "%llu", &x) == 1) v = x;
    fclose(f);
  }
  return v;
}

// The skeleton opened, its read-only configuration set.
common::Result<Skeleton> open_skeleton(const BpfConfig& config, uint64_t ringbuf_bytes) {
  clear_libbpf_log();
  Skeleton skel(capaudit_bpf__open());
  if (!skel) return common::fail(common::errno_message("open BPF object", errno));
  if (skel->rodata->abi_version != CAPAUDIT_BPF_ABI_VERSION)
    return common::fail("BPF object built for ABI " + std::to_string(skel->rodata->abi_version),
                        "rebuild: the skeleton is stale");
  skel->rodata->recorder_tgid = static_cast<uint32_t>(config.recorder_tgid);
  skel->rodata->stacks_per_key = config.stacks_per_key;
  skel->rodata->paths_per_key = config.paths_per_key;
  skel->rodata->user_stacks = config.user_stacks ? 1 : 0;
  skel->rodata->filter_cgroup_id = config.cgroup_id;
  // Wake the consumer only when a quarter of the buffer is backlogged; the
  // consumer polls on a timer anyway, so small traces cost no wake-ups at all.
  skel->rodata->wakeup_bytes = ringbuf_bytes / 4;
  bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes);
  return skel;
}

// Loads only CHOSEN's capability hook programs (the other programs keep their defaults).
void select_hook_programs(capaudit_bpf* skel, common::Hook chosen) {
  auto wanted = hook_programs(skel, chosen);
  auto all = all_hook_programs(skel);
  for (auto* p : all) {
    bool keep = false;
    for (auto* w : wanted) keep |= (w == p);
    bpf_program__set_autoload(p, keep);
  }
}

// Enables the caller probes matching HOOK (none for tp_btf) before the load;
// those whose function the kernel lacks are left out and noted in PROBLEMS.
std::vector<InlinedCaller> enable_inlined_callers(capaudit_bpf* skel, common::Hook hook,
                                                  std::vector<std::string>& problems) {
  bpf_program* p;
  bpf_object__for_each_program(p, skel->obj) {
    if (is_inlined_caller_program(skel, p)) bpf_program__set_autoload(p, false);
  }
  skel->rodata->mmap_min_addr_at_start = read_mmap_min_addr();
  std::vector<InlinedCaller> enabled;
  auto callers = inlined_callers(skel, hook);
  if (callers.empty()) return enabled;
  btf* vmlinux = btf__load_vmlinux_btf();  // without it, the load or attach says what is wrong
  for (const auto& c : callers) {
    if (vmlinux && btf__find_by_name_kind(vmlinux, c.function, BTF_KIND_FUNC) <= 0) {
      problems.push_back(std::string(c.function) + ": not a function in this kernel's BTF");
      continue;
    }
    bpf_program__set_autoload(c.entry, true);
    bpf_program__set_autoload(c.exit, true);
    enabled.push_back(c);
  }
  btf__free(vmlinux);
  return enabled;
}

// Facts programs with task storage; without it (6.1 and 6.12 refuse task
// storage in cgroup programs); none (syscall exit).
enum class Facts { with_storage, without_storage, none };
struct Variant {
  Facts facts;
  bool callers;
  bool link;
};

// The variants to try, best first. The link-fact program counts for more
// than the caller probes, they for more than where the facts come from.
std::vector<Variant> load_variants(bool cgroup_facts, bool want_callers, bool want_link) {
  std::vector<Variant> variants;
  for (bool link : {true, false}) {
    if (link && !want_link) continue;
    for (bool callers : {true, false}) {
      if (callers && !want_callers) continue;
      if (cgroup_facts) {
        variants.push_back({Facts::with_storage, callers, link});
        variants.push_back({Facts::without_storage, callers, link});
      }
      variants.push_back({Facts::none, callers, link});
    }
  }
  return variants;
}

const char* describe(Facts facts) {
  return facts == Facts::with_storage      ? "with cgroup programs"
         : facts == Facts::without_storage ? "with cgroup programs without task storage"
                                           : "without cgroup programs";
}

}  // namespace

common::Result<LoadedPrograms> load_programs(const BpfConfig& config, common::Hook chosen, LinkMethod link,
                                             const std::string& link_reason) {
  LoadedPrograms out;
  out.ringbuf_bytes = round_up_pow2(config.ringbuf_bytes);
  bool cgroup_facts = config.facts == FactsChoice::automatic;
  out.cgroup_root = cgroup_facts ? cgroup2_root() : std::string();
  if (config.facts == FactsChoice::sys_exit) out.facts_reason = "syscall exit: --facts sys_exit";
  else if (out.cgroup_root.empty()) out.facts_reason = "syscall exit: no cgroup v2 hierarchy is mounted";
  cgroup_facts = cgroup_facts && !out.cgroup_root.empty();
  const bool want_callers = chosen == common::Hook::fexit || chosen == common::Hook::kprobe;

  std::vector<std::string> load_notes;  // why each variant tried so far was refused
  for (const auto& v : load_variants(cgroup_facts, want_callers, link != LinkMethod::none)) {
    auto opened = open_skeleton(config, out.ringbuf_bytes);
    if (!opened) return opened.error();
    out.skel = std::move(opened).value();
    capaudit_bpf* skel = out.skel.get();
    select_hook_programs(skel, chosen);
    out.caller_problems = load_notes;
    out.callers = enable_inlined_callers(skel, v.callers ? chosen : common::Hook::unknown, out.caller_problems);
    for (auto* f : fact_programs(skel)) bpf_program__set_autoload(f, v.facts != Facts::none);
    skel->rodata->facts_use_storage = v.facts == Facts::with_storage;
    // Off unless chosen: a trampoline this kernel refuses fails the whole load.
    for (auto* p : all_link_programs(skel)) bpf_program__set_autoload(p, false);
    if (v.link) bpf_program__set_autoload(link_program(skel, link).prog, true);
    if (int err = capaudit_bpf__load(skel)) {
      load_notes.push_back(std::string(describe(v.facts)) + ", " + (v.callers ? "with" : "without") +
                           " caller probes" + (v.link ? ", with the link-fact program" : "") + ": " +
                           failure_reason("load", -err));
      continue;
    }
    out.link_method = v.link ? link : LinkMethod::none;
    out.link_reason = link_reason;
    if (link != LinkMethod::none && !v.link)
      out.link_reason = std::string("unavailable: ") + link_program(skel, link).name + " refused at load with the rest";
    if (cgroup_facts && v.facts == Facts::none)
      out.facts_reason = "syscall exit: the cgroup programs were refused at load with the rest";
    if (v.facts == Facts::without_storage) out.facts_note = " (without task storage, which this kernel refuses there)";
    if (want_callers && !v.callers) out.caller_problems.push_back("caller probes: refused at load with the rest");
    out.cgroup_facts = v.facts != Facts::none;
    return out;
  }
  return common::fail("loading the BPF programs failed: " + load_notes.front(), "run with -v to see the verifier log");
}

}  // namespace capaudit::record
