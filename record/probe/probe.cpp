#include "record/probe/probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "capaudit.skel.h"
#include "record/load/libbpf_log.h"
#include "record/load/programs.h"

namespace capaudit::record {
namespace {

struct HookName {
  common::Hook hook;
  const char* name;
};

constexpr HookName kHookOrder[] = {
    {common::Hook::tp_btf, "tp_btf/cap_capable"},
    {common::Hook::fexit, "fexit/cap_capable"},
    {common::Hook::kprobe, "kprobe+kretprobe/cap_capable"},
};

// Whether the kernel's BTF knows the raw tracepoint type tp_btf needs. Without
// it libbpf fails with a bare ESRCH ("No such process"), which tells an
// operator on a pre-6.14 kernel nothing (seen on Debian's 6.1 and 6.12).
bool kernel_has_cap_capable_tracepoint() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return true;  // let the load attempt report what is wrong
  bool has = btf__find_by_name_kind(vmlinux, "btf_trace_cap_capable", BTF_KIND_TYPEDEF) > 0;
  btf__free(vmlinux);
  return has;
}

// Loads and attaches only HOOK's programs, with a tiny ring buffer; detaches
// and frees them again. The reason it does not work, or nothing.
common::Result<> probe_hook(common::Hook hook) {
  if (hook == common::Hook::tp_btf && !kernel_has_cap_capable_tracepoint())
    return common::fail("refused: this kernel has no capability:cap_capable tracepoint (no btf_trace_cap_capable "
                        "in its BTF; the tracepoint exists since Linux 6.14)");
  clear_libbpf_log();
  Skeleton skel(capaudit_bpf__open());
  if (!skel) return common::fail(failure_reason("open", errno));
  bpf_map__set_max_entries(skel->maps.events, 4096);
  auto wanted = hook_programs(skel.get(), hook);
  bpf_program* p;
  bpf_object__for_each_program(p, skel->obj) {
    bool keep = false;
    for (auto* w : wanted) keep |= (w == p);
    bpf_program__set_autoload(p, keep);
  }
  if (int err = capaudit_bpf__load(skel.get())) return common::fail(failure_reason("load", -err));
  for (auto* w : wanted) {
    bpf_link* link = bpf_program__attach(w);
    if (!link) return common::fail(failure_reason("attach", errno));
    bpf_link__destroy(link);
  }
  return {};
}

bool requested(HookChoice choice, common::Hook hook) {
  return choice == HookChoice::automatic || (choice == HookChoice::tp_btf && hook == common::Hook::tp_btf) ||
         (choice == HookChoice::fexit && hook == common::Hook::fexit) ||
         (choice == HookChoice::kprobe && hook == common::Hook::kprobe);
}

}  // namespace

common::Result<ProbeReport> probe_hooks(HookChoice choice) {
  ProbeReport report;
  for (const auto& h : kHookOrder) {
    common::HookAttempt attempt{h.hook, false, {}};
    if (!requested(choice, h.hook)) {
      attempt.reason = std::string(h.name) + ": not tried (--hook given)";
    } else if (auto r = probe_hook(h.hook); !r) {
      attempt.reason = std::string(h.name) + ": " + r.error().message;
    } else {
      if (h.hook == common::Hook::fexit) report.fexit_works = true;
      if (h.hook == common::Hook::kprobe) report.kprobe_works = true;
      if (report.chosen == common::Hook::unknown) {
        report.chosen = h.hook;
        attempt.used = true;
        attempt.reason = std::string(h.name) + ": attached";
      } else {
        attempt.reason = std::string(h.name) + ": works, not used (an earlier hook is preferred)";
      }
    }
    report.attempts.push_back(std::move(attempt));
  }
  if (report.chosen == common::Hook::unknown) {
    std::string why;
    for (const auto& a : report.attempts) why += "\n  " + a.reason;
    return common::fail("no capability hook could be attached:" + why,
                        "run as root (CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN) on a kernel with BTF; "
                        "try --hook auto and -v for libbpf's messages");
  }
  report.opts_available = report.chosen != common::Hook::tp_btf && kernel_cap_capable_has_opts();
  return report;
}

LinkChoice choose_link_method(FactsChoice facts, const ProbeReport& probed) {
  if (facts != FactsChoice::sys_exit) return {LinkMethod::none, "off: taken only with --facts sys_exit"};
  bool in_btf = true;  // without BTF the load says what is wrong
  if (btf* vmlinux = btf__load_vmlinux_btf()) {
    in_btf = btf__find_by_name_kind(vmlinux, "may_linkat", BTF_KIND_FUNC) > 0;
    btf__free(vmlinux);
  }
  if (probed.fexit_works && in_btf) return {LinkMethod::fentry, "fentry/may_linkat"};
  if (probed.kprobe_works) return {LinkMethod::kprobe, std::string("kprobe/may_linkat") + (in_btf ? "" : " (may_linkat is not in this kernel's BTF: no fentry)")};
  // Why not, in the hook probe's own words.
  std::string why;
  for (const auto& a : probed.attempts)
    if (a.hook == common::Hook::fexit || a.hook == common::Hook::kprobe) why += (why.empty() ? "" : "; ") + a.reason;
  return {LinkMethod::none, "unavailable: neither a trampoline nor a kprobe is known to work here (" + why +
                                "), and only a probe on may_linkat() sees the link's source"};
}

bool kernel_cap_capable_has_opts() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  bool has = false;
  int id = btf__find_by_name_kind(vmlinux, "cap_capable", BTF_KIND_FUNC);
  if (id > 0) {
    const btf_type* func = btf__type_by_id(vmlinux, id);
    const btf_type* proto = btf__type_by_id(vmlinux, func->type);
    if (proto && btf_is_func_proto(proto) && btf_vlen(proto) >= 4) {
      const btf_param* params = btf_params(proto);
      const char* name = btf__name_by_offset(vmlinux, params[3].name_off);
      has = name && strcmp(name, "opts") == 0;
    }
  }
  btf__free(vmlinux);
  return has;
}

}  // namespace capaudit::record
