#include "record/attach/attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "capaudit.skel.h"
#include "record/load/libbpf_log.h"

namespace capaudit::record {
namespace {

common::Result<> attach(bpf_program* prog, bpf_link** link) {
  *link = bpf_program__attach(prog);
  if (!*link)
    return common::fail(std::string("attaching ") + bpf_program__section_name(prog) + " failed: " +
                        failure_reason("attach", errno));
  return {};
}

// The filter cgroup into its map, before any hook is attached: a member's
// first check looks it up.
common::Result<> set_filter_cgroup(capaudit_bpf* skel, const BpfConfig& config) {
  int fd = ::open(config.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  uint32_t key = 0;
  uint32_t value = static_cast<uint32_t>(fd);
  int err = fd < 0 ? -errno
                   : bpf_map__update_elem(skel->maps.filter_cgroup, &key, sizeof(key), &value, sizeof(value), BPF_ANY);
  int saved = errno;
  if (fd >= 0) ::close(fd);  // the map holds the cgroup
  if (err)
    return common::fail(common::errno_message("using cgroup " + config.cgroup_path + " as the filter", saved),
                        "--cgroup takes a cgroup v2 directory");
  return {};
}

// The cgroup fact programs on the hierarchy's root. A refusal costs only
// where the facts come from (the syscall exit then): said in REASON.
bool attach_fact_programs(LoadedPrograms& loaded, std::string& reason) {
  capaudit_bpf* skel = loaded.skel.get();
  const std::string& root = loaded.cgroup_root;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bpf_link** links[] = {&skel->links.facts_bind4, &skel->links.facts_bind6, &skel->links.facts_sock_create};
  auto progs = fact_programs(skel);
  bool attached = true;
  for (size_t i = 0; i < progs.size() && attached; ++i) {
    *links[i] = fd >= 0 ? bpf_program__attach_cgroup(progs[i], fd) : nullptr;
    if (!*links[i]) {
      reason = "syscall exit: attaching " + std::string(bpf_program__section_name(progs[i])) + " to " + root +
               " was " + failure_reason("attach", fd >= 0 ? errno : EBADF);
      attached = false;
      for (auto* l : links) {
        bpf_link__destroy(*l);
        *l = nullptr;
      }
    }
  }
  if (fd >= 0) ::close(fd);  // the links hold the cgroup
  if (attached) reason = "cgroup programs bind4, bind6, sock_create on " + root + loaded.facts_note;
  return attached;
}

// A caller probe that fails to attach costs only that caller's checks, never
// the recording: the failure goes to PROBLEMS.
size_t attach_inlined_callers(const std::vector<InlinedCaller>& callers, std::vector<std::string>& problems) {
  size_t attached = 0;
  for (const auto& c : callers) {
    // Exit first: an entry without its exit would only leave a stale note.
    *c.exit_link = bpf_program__attach(c.exit);
    if (*c.exit_link) *c.entry_link = bpf_program__attach(c.entry);
    if (*c.exit_link && *c.entry_link) {
      ++attached;
      continue;
    }
    problems.push_back(std::string(c.function) + ": " + failure_reason("attach", errno));
    bpf_link__destroy(*c.exit_link);
    *c.exit_link = nullptr;
  }
  return attached;
}

// What the used hook's attempt and stderr say about the caller probes: a
// missing one is a blind spot, so it is said even without -v.
std::string describe_inlined_callers(common::Hook hook, size_t attached, const std::vector<std::string>& problems) {
  std::string text = std::string("callers that may inline cap_capable (cap_capset, cap_mmap_addr, "
                                 "cap_vm_enough_memory) probed with ") +
                     (hook == common::Hook::fexit ? "fentry+fexit" : "kprobe+kretprobe") + ": " +
                     std::to_string(attached) + " of 3 attached";
  for (const auto& p : problems) text += "; " + p;
  return text;
}

common::Result<> attach_hook(capaudit_bpf* skel, common::Hook chosen) {
  switch (chosen) {
    case common::Hook::tp_btf: return attach(skel->progs.tp_cap_capable, &skel->links.tp_cap_capable);
    case common::Hook::fexit: return attach(skel->progs.fexit_cap_capable, &skel->links.fexit_cap_capable);
    default:
      if (auto r = attach(skel->progs.kprobe_cap_capable, &skel->links.kprobe_cap_capable); !r) return r;
      return attach(skel->progs.kretprobe_cap_capable, &skel->links.kretprobe_cap_capable);
  }
}

}  // namespace

uint64_t boottime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

common::Result<AttachReport> attach_programs(LoadedPrograms& loaded, const BpfConfig& config, common::Hook chosen) {
  capaudit_bpf* skel = loaded.skel.get();
  AttachReport report;
  report.facts_reason = loaded.facts_reason;
  if (config.cgroup_id)
    if (auto r = set_filter_cgroup(skel, config); !r) return r.error();

  // Lifecycle first, capability hook last: a check is never recorded for a
  // task whose fork we could not see.
  for (auto [prog, link] : {std::pair{skel->progs.on_fork, &skel->links.on_fork},
                            std::pair{skel->progs.on_exec, &skel->links.on_exec},
                            std::pair{skel->progs.on_exit, &skel->links.on_exit},
                            std::pair{skel->progs.on_switch, &skel->links.on_switch}})
    if (auto r = attach(prog, link); !r) return r.error();
  // Made now, while privileged; run at the end by BpfSession::stop_and_drain().
  skel->links.drain_batches = bpf_program__attach_iter(skel->progs.drain_batches, nullptr);
  if (!skel->links.drain_batches)
    return common::fail("creating the end-of-recording task iterator failed: " + failure_reason("attach", errno));

  const bool cgroup_facts = loaded.cgroup_facts && attach_fact_programs(loaded, report.facts_reason);
  report.facts_source = cgroup_facts ? common::FactsSource::cgroup_hooks : common::FactsSource::sys_exit;
  skel->bss->facts_in_sys_exit = cgroup_facts ? 0 : 1;

  // The syscall-exit program costs the whole host, so it runs from the start
  // only when it must; with OutcomeMode::first_denial it comes later.
  const bool sys_exit_now = !cgroup_facts || config.outcomes == OutcomeMode::all;
  if (sys_exit_now)
    if (auto r = attach(skel->progs.on_sys_exit, &skel->links.on_sys_exit); !r) return r.error();
  if (config.outcomes == OutcomeMode::off) {
    report.outcome_tracking = common::OutcomeTracking::off;
  } else if (sys_exit_now) {
    report.outcome_tracking = common::OutcomeTracking::from_start;
    skel->bss->outcomes_live = 1;
    report.outcomes_from_ns = boottime_ns();
  } else {
    report.outcome_tracking = config.outcome_window_ns ? common::OutcomeTracking::in_windows
                                                       : common::OutcomeTracking::from_first_denial;
  }

  if (auto r = attach_hook(skel, chosen); !r) return r.error();
  if (chosen == common::Hook::fexit || chosen == common::Hook::kprobe) {
    const size_t attached = attach_inlined_callers(loaded.callers, loaded.caller_problems);
    report.callers_text = describe_inlined_callers(chosen, attached, loaded.caller_problems);
    report.callers_missing = !loaded.caller_problems.empty();
  }
  // The link-fact probe costs only link() calls: a refusal costs only its facts.
  report.link_reason = loaded.link_reason;
  if (auto lp = link_program(skel, loaded.link_method); lp.prog) {
    *lp.link = bpf_program__attach(lp.prog);
    report.link_facts = *lp.link != nullptr;
    report.link_reason = report.link_facts ? std::string(lp.name) + " attached"
                                           : std::string("unavailable: attaching ") + lp.name + " was " +
                                                 failure_reason("attach", errno);
  }
  return report;
}

}  // namespace capaudit::record
