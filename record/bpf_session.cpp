#include "record/bpf_session.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdarg>
#include <cstring>
#include <mutex>

#include "capaudit.skel.h"
#include "common/error.h"

namespace capaudit::record {
namespace {

// libbpf reports through one process-wide callback; we keep its last lines so
// a refused hook can say *why* in the trace, and echo them only with -v.
struct LibbpfLog {
  std::mutex mu;
  std::string last;
  bool verbose = false;
};

LibbpfLog& libbpf_log() {
  static LibbpfLog log;
  return log;
}

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  // A refused program's verifier log comes as one message of many kilobytes:
  // formatted whole, or -v shows its first lines and never the reason.
  va_list measure;
  va_copy(measure, args);
  const int n = vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  std::string buf(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) vsnprintf(buf.data(), buf.size() + 1, fmt, args);
  auto& log = libbpf_log();
  std::lock_guard lock(log.mu);
  if (level != LIBBPF_DEBUG) {
    log.last += buf;
    if (log.last.size() > 4096) log.last.erase(0, log.last.size() - 4096);
  }
  if (log.verbose && level != LIBBPF_DEBUG) fputs(buf.c_str(), stderr);
  return 0;
}

void take_log(std::string* out) {
  auto& log = libbpf_log();
  std::lock_guard lock(log.mu);
  if (out) *out = std::move(log.last);
  log.last.clear();
}

uint64_t round_up_pow2(uint64_t v) {
  uint64_t p = 4096;
  while (p < v) p <<= 1;
  return p;
}

struct HookProgs {
  common::Hook hook;
  const char* name;
};

constexpr HookProgs kHookOrder[] = {
    {common::Hook::tp_btf, "tp_btf/cap_capable"},
    {common::Hook::fexit, "fexit/cap_capable"},
    {common::Hook::kprobe, "kprobe+kretprobe/cap_capable"},
};

// The programs implementing HOOK in SKEL (kprobe needs its return probe too).
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

bool is_hook_program(capaudit_bpf* skel, bpf_program* p) {
  for (auto* h : all_hook_programs(skel))
    if (h == p) return true;
  return false;
}

std::string short_log(std::string log) {
  // The verifier log can be long; the last non-empty line usually says it all.
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
  auto pos = log.rfind('\n');
  if (pos != std::string::npos) log = log.substr(pos + 1);
  if (log.size() > 200) log = log.substr(log.size() - 200);
  return log;
}

std::string failure_reason(const char* stage, int err) {
  std::string log;
  take_log(&log);
  std::string reason = std::string(stage) + " refused: " + strerror(err) + " (" + (err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == ESRCH ? "ESRCH" : err == EINVAL ? "EINVAL" : std::to_string(err)) + ")";
  auto last = short_log(log);
  if (!last.empty()) reason += ": " + last;
  return reason;
}

struct ProbeResult {
  bool ok = false;
  std::string reason;
};

// Loads and attaches only HOOK's programs, with a tiny ring buffer: a cheap,
// honest answer to "does this hook work here?".
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

ProbeResult probe_hook(common::Hook hook) {
  if (hook == common::Hook::tp_btf && !kernel_has_cap_capable_tracepoint())
    return {false, "refused: this kernel has no capability:cap_capable tracepoint (no btf_trace_cap_capable "
                   "in its BTF; the tracepoint exists since Linux 6.14)"};
  take_log(nullptr);
  capaudit_bpf* skel = capaudit_bpf__open();
  if (!skel) return {false, failure_reason("open", errno)};
  ProbeResult result;
  bpf_map__set_max_entries(skel->maps.events, 4096);
  bpf_object* obj = skel->obj;
  bpf_program* p;
  auto wanted = hook_programs(skel, hook);
  bpf_object__for_each_program(p, obj) {
    bool keep = false;
    for (auto* w : wanted) keep |= (w == p);
    bpf_program__set_autoload(p, keep);
  }
  int err = capaudit_bpf__load(skel);
  if (err) {
    result = {false, failure_reason("load", -err)};
  } else {
    result.ok = true;
    for (auto* w : wanted) {
      bpf_link* link = bpf_program__attach(w);
      if (!link) {
        result = {false, failure_reason("attach", errno)};
        break;
      }
      bpf_link__destroy(link);
    }
  }
  capaudit_bpf__destroy(skel);
  return result;
}

// The root of the cgroup v2 hierarchy: programs attached there see every task.
std::string cgroup2_root() {
  for (const char* path : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return path;
  }
  return {};
}

std::vector<bpf_program*> fact_programs(capaudit_bpf* skel) {
  return {skel->progs.facts_bind4, skel->progs.facts_bind6, skel->progs.facts_sock_create};
}

uint64_t boottime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Loads only CHOSEN's capability hook programs (the other programs keep their defaults).
void select_hook_programs(capaudit_bpf* skel, common::Hook chosen) {
  auto wanted = hook_programs(skel, chosen);
  bpf_program* p;
  bpf_object__for_each_program(p, skel->obj) {
    if (!is_hook_program(skel, p)) continue;
    bool keep = false;
    for (auto* w : wanted) keep |= (w == p);
    bpf_program__set_autoload(p, keep);
  }
}

// ---- fallback: callers that inline cap_capable ----
// GCC inlines cap_capable() into cap_capset(), cap_mmap_addr() and
// cap_vm_enough_memory() on Debian's 6.1/6.12 kernels, hiding their checks
// from fexit/kprobe on cap_capable. bpf/capaudit.bpf.c probes those callers
// (real functions: LSM hooks) and rebuilds the check once when the hook did
// not see it. The tracepoint fires inside inlined copies and needs none of it.
struct InlinedCaller {
  const char* function;
  bpf_program* entry;
  bpf_program* exit;
  bpf_link** entry_link;
  bpf_link** exit_link;
};

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

bool is_inlined_caller_program(capaudit_bpf* skel, bpf_program* prog) {
  for (auto hook : {common::Hook::fexit, common::Hook::kprobe})
    for (const auto& c : inlined_callers(skel, hook))
      if (c.entry == prog || c.exit == prog) return true;
  return false;
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

}  // namespace

bool parse_hook_choice(const std::string& text, HookChoice& out) {
  if (text == "auto") out = HookChoice::automatic;
  else if (text == "tp_btf") out = HookChoice::tp_btf;
  else if (text == "fexit") out = HookChoice::fexit;
  else if (text == "kprobe") out = HookChoice::kprobe;
  else return false;
  return true;
}

bool parse_outcome_mode(const std::string& text, OutcomeMode& out) {
  if (text == "all") out = OutcomeMode::all;
  else if (text == "first-denial") out = OutcomeMode::first_denial;
  else if (text == "off") out = OutcomeMode::off;
  else return false;
  return true;
}

bool parse_facts_choice(const std::string& text, FactsChoice& out) {
  if (text == "auto") out = FactsChoice::automatic;
  else if (text == "sys_exit") out = FactsChoice::sys_exit;
  else return false;
  return true;
}

uint64_t recursion_misses(std::span<const int> prog_fds) {
  uint64_t total = 0;
  for (int fd : prog_fds) {
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) total += info.recursion_misses;
  }
  return total;
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

void BpfSession::SkelDeleter::operator()(capaudit_bpf* s) const { capaudit_bpf__destroy(s); }

BpfSession::~BpfSession() = default;

std::unique_ptr<BpfSession> BpfSession::open(const BpfConfig& config) {
  libbpf_set_print(libbpf_print);
  libbpf_log().verbose = config.verbose;
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);

  std::unique_ptr<BpfSession> session(new BpfSession());
  common::Hook chosen = common::Hook::unknown;
  for (const auto& h : kHookOrder) {
    common::HookAttempt attempt{h.hook, false, {}};
    bool requested = config.hook == HookChoice::automatic ||
                     (config.hook == HookChoice::tp_btf && h.hook == common::Hook::tp_btf) ||
                     (config.hook == HookChoice::fexit && h.hook == common::Hook::fexit) ||
                     (config.hook == HookChoice::kprobe && h.hook == common::Hook::kprobe);
    if (!requested) {
      attempt.reason = std::string(h.name) + ": not tried (--hook given)";
    } else {
      ProbeResult r = probe_hook(h.hook);
      if (r.ok && chosen == common::Hook::unknown) {
        chosen = h.hook;
        attempt.used = true;
        attempt.reason = std::string(h.name) + ": attached";
      } else if (r.ok) {
        attempt.reason = std::string(h.name) + ": works, not used (an earlier hook is preferred)";
      } else {
        attempt.reason = std::string(h.name) + ": " + r.reason;
      }
    }
    session->attempts_.push_back(std::move(attempt));
  }
  if (chosen == common::Hook::unknown) {
    std::string why;
    for (const auto& a : session->attempts_) why += "\n  " + a.reason;
    throw common::Error("no capability hook could be attached:" + why,
                        "run as root (CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN) on a kernel with BTF; "
                        "try --hook auto and -v for libbpf's messages");
  }
  session->hook_ = chosen;
  session->opts_available_ = chosen != common::Hook::tp_btf && kernel_cap_capable_has_opts();

  // Optional programs never cost the recording. A load refused with them is
  // tried again without: first without the cgroup fact programs (the syscall
  // exit then carries the facts), then without the caller probes, then without
  // both. Debian's 6.1 and 6.12 refuse the cgroup programs (EINVAL).
  bool cgroup_facts = config.facts == FactsChoice::automatic;
  std::string root = cgroup_facts ? cgroup2_root() : std::string();
  if (config.facts == FactsChoice::sys_exit) session->facts_reason_ = "syscall exit: --facts sys_exit";
  else if (root.empty()) session->facts_reason_ = "syscall exit: no cgroup v2 hierarchy is mounted";
  cgroup_facts = cgroup_facts && !root.empty();
  const bool want_callers = chosen == common::Hook::fexit || chosen == common::Hook::kprobe;
  // Facts programs with task storage; without it (6.1 and 6.12 refuse task
  // storage in cgroup programs); none (syscall exit). Caller probes count
  // for more than where the facts come from.
  enum class Facts { with_storage, without_storage, none };
  struct Variant {
    Facts facts;
    bool callers;
  };
  std::vector<Variant> variants;
  for (bool callers : {true, false}) {
    if (callers && !want_callers) continue;
    if (cgroup_facts) {
      variants.push_back({Facts::with_storage, callers});
      variants.push_back({Facts::without_storage, callers});
    }
    variants.push_back({Facts::none, callers});
  }
  std::vector<std::string> caller_problems, load_notes;
  std::string facts_note;
  std::vector<InlinedCaller> callers;
  capaudit_bpf* skel = nullptr;
  int load_err = 0;
  for (const auto& v : variants) {
    skel = session->open_skeleton(config);
    select_hook_programs(skel, chosen);
    caller_problems = load_notes;
    callers = enable_inlined_callers(skel, v.callers ? chosen : common::Hook::unknown, caller_problems);
    for (auto* f : fact_programs(skel)) bpf_program__set_autoload(f, v.facts != Facts::none);
    skel->rodata->facts_use_storage = v.facts == Facts::with_storage;
    load_err = capaudit_bpf__load(skel);
    if (!load_err) {
      if (cgroup_facts && v.facts == Facts::none)
        session->facts_reason_ = "syscall exit: the cgroup programs were refused at load with the rest";
      if (v.facts == Facts::without_storage) facts_note = " (without task storage, which this kernel refuses there)";
      if (want_callers && !v.callers) caller_problems.push_back("caller probes: refused at load with the rest");
      cgroup_facts = v.facts != Facts::none;
      break;
    }
    const char* facts_text = v.facts == Facts::with_storage      ? "with cgroup programs"
                             : v.facts == Facts::without_storage ? "with cgroup programs without task storage"
                                                                 : "without cgroup programs";
    load_notes.push_back(std::string(facts_text) + ", " + (v.callers ? "with" : "without") +
                         " caller probes: " + failure_reason("load", -load_err));
  }
  if (load_err)
    throw common::Error("loading the BPF programs failed: " + load_notes.front(),
                        "run with -v to see the verifier log");
  if (config.cgroup_id) {
    // Before any hook is attached: a member's first check looks it up.
    int fd = ::open(config.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint32_t key = 0;
    uint32_t value = static_cast<uint32_t>(fd);
    int err = fd < 0 ? -errno
                     : bpf_map__update_elem(skel->maps.filter_cgroup, &key, sizeof(key), &value, sizeof(value), BPF_ANY);
    int saved = errno;
    if (fd >= 0) ::close(fd);  // the map holds the cgroup
    if (err)
      throw common::Error(common::errno_message("using cgroup " + config.cgroup_path + " as the filter", saved),
                          "--cgroup takes a cgroup v2 directory");
  }

  auto attach = [](bpf_program* prog, bpf_link** link) {
    *link = bpf_program__attach(prog);
    if (!*link)
      throw common::Error(std::string("attaching ") + bpf_program__section_name(prog) + " failed: " +
                          failure_reason("attach", errno));
  };
  // Lifecycle first, capability hook last: a check is never recorded for a
  // task whose fork we could not see.
  attach(skel->progs.on_fork, &skel->links.on_fork);
  attach(skel->progs.on_exec, &skel->links.on_exec);
  attach(skel->progs.on_exit, &skel->links.on_exit);
  attach(skel->progs.on_switch, &skel->links.on_switch);
  // Made now, while privileged; run at the end by drain_batches().
  skel->links.drain_batches = bpf_program__attach_iter(skel->progs.drain_batches, nullptr);
  if (!skel->links.drain_batches)
    throw common::Error("creating the end-of-recording task iterator failed: " +
                        failure_reason("attach", errno));

  if (cgroup_facts) {
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bpf_link** links[] = {&skel->links.facts_bind4, &skel->links.facts_bind6, &skel->links.facts_sock_create};
    auto progs = fact_programs(skel);
    for (size_t i = 0; i < progs.size() && cgroup_facts; ++i) {
      *links[i] = fd >= 0 ? bpf_program__attach_cgroup(progs[i], fd) : nullptr;
      if (!*links[i]) {
        session->facts_reason_ = "syscall exit: attaching " + std::string(bpf_program__section_name(progs[i])) +
                                 " to " + root + " was " + failure_reason("attach", fd >= 0 ? errno : EBADF);
        cgroup_facts = false;
        for (auto* l : links) {
          bpf_link__destroy(*l);
          *l = nullptr;
        }
      }
    }
    if (fd >= 0) ::close(fd);  // the links hold the cgroup
    if (cgroup_facts) session->facts_reason_ = "cgroup programs bind4, bind6, sock_create on " + root + facts_note;
  }
  session->facts_source_ = cgroup_facts ? common::FactsSource::cgroup_hooks : common::FactsSource::sys_exit;
  skel->bss->facts_in_sys_exit = cgroup_facts ? 0 : 1;

  // The syscall-exit program costs the whole host, so it runs from the start
  // only when it must; with OutcomeMode::first_denial it comes later.
  const bool sys_exit_now = !cgroup_facts || config.outcomes == OutcomeMode::all;
  if (sys_exit_now) attach(skel->progs.on_sys_exit, &skel->links.on_sys_exit);
  if (config.outcomes == OutcomeMode::off) {
    session->outcome_tracking_ = common::OutcomeTracking::off;
  } else if (sys_exit_now) {
    session->outcome_tracking_ = common::OutcomeTracking::from_start;
    skel->bss->outcomes_live = 1;
    session->windows_opened_ = 1;
    session->outcomes_from_ns_ = session->window_start_ns_ = boottime_ns();
  } else {
    session->outcome_tracking_ = config.outcome_window_ns ? common::OutcomeTracking::in_windows
                                                          : common::OutcomeTracking::from_first_denial;
  }

  switch (chosen) {
    case common::Hook::tp_btf: attach(skel->progs.tp_cap_capable, &skel->links.tp_cap_capable); break;
    case common::Hook::fexit: attach(skel->progs.fexit_cap_capable, &skel->links.fexit_cap_capable); break;
    default:
      attach(skel->progs.kprobe_cap_capable, &skel->links.kprobe_cap_capable);
      attach(skel->progs.kretprobe_cap_capable, &skel->links.kretprobe_cap_capable);
      break;
  }
  size_t callers_attached = attach_inlined_callers(callers, caller_problems);
  session->note_inlined_callers(chosen, callers_attached, caller_problems, config.verbose);
  return session;
}

uint64_t BpfSession::open_outcome_window(std::string* error) {
  if (window_start_ns_) return window_start_ns_;
  if (outcome_tracking_ != common::OutcomeTracking::from_first_denial &&
      outcome_tracking_ != common::OutcomeTracking::in_windows) {
    if (error) *error = "outcome tracking is off";
    return 0;
  }
  auto* skel = skel_.get();
  skel->links.on_sys_exit = bpf_program__attach(skel->progs.on_sys_exit);
  if (!skel->links.on_sys_exit) {
    if (error) *error = "attaching tp_btf/sys_exit failed: " + failure_reason("attach", errno);
    return 0;
  }
  // Live only once attached: a denial flagged earlier would wait for an exit
  // that never comes through this program. The value numbers the window (never
  // 0): a flag left from an earlier window is not taken for this one's.
  skel->bss->outcomes_live = windows_opened_++ % 0xffff + 1;
  window_start_ns_ = boottime_ns();
  if (!outcomes_from_ns_) outcomes_from_ns_ = window_start_ns_;
  return window_start_ns_;
}

uint64_t BpfSession::close_outcome_window() {
  if (!window_start_ns_ || outcome_tracking_ != common::OutcomeTracking::in_windows) return 0;
  auto* skel = skel_.get();
  // Detached first: a check flagged in between keeps this window's number
  // and is counted as a missed outcome when the next window's exit sees it.
  bpf_link__destroy(skel->links.on_sys_exit);
  skel->links.on_sys_exit = nullptr;
  skel->bss->outcomes_live = 0;
  window_start_ns_ = 0;
  return boottime_ns();
}

capaudit_bpf* BpfSession::open_skeleton(const BpfConfig& config) {
  take_log(nullptr);
  skel_.reset(capaudit_bpf__open());
  auto* skel = skel_.get();
  if (!skel) throw common::Error(common::errno_message("open BPF object", errno));
  if (skel->rodata->abi_version != CAPAUDIT_BPF_ABI_VERSION)
    throw common::Error("BPF object built for ABI " + std::to_string(skel->rodata->abi_version),
                        "rebuild: the skeleton is stale");
  skel->rodata->recorder_tgid = static_cast<uint32_t>(config.recorder_tgid);
  skel->rodata->stacks_per_key = config.stacks_per_key;
  skel->rodata->paths_per_key = config.paths_per_key;
  skel->rodata->user_stacks = config.user_stacks ? 1 : 0;
  skel->rodata->filter_cgroup_id = config.cgroup_id;
  ringbuf_bytes_ = round_up_pow2(config.ringbuf_bytes);
  // Wake the consumer only when a quarter of the buffer is backlogged; the
  // consumer polls on a timer anyway, so small traces cost no wake-ups at all.
  skel->rodata->wakeup_bytes = ringbuf_bytes_ / 4;
  bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes_);
  return skel;
}

void BpfSession::note_inlined_callers(common::Hook hook, size_t attached, const std::vector<std::string>& problems,
                                      bool verbose) {
  if (hook != common::Hook::fexit && hook != common::Hook::kprobe) return;
  std::string text = describe_inlined_callers(hook, attached, problems);
  for (auto& a : attempts_)
    if (a.used) a.reason += "; " + text;
  if (verbose || !problems.empty()) fprintf(stderr, "capaudit-record: %s\n", text.c_str());
}

void BpfSession::expect_exec(pid_t pid) {
  uint32_t key = static_cast<uint32_t>(pid);
  uint8_t one = 1;
  if (bpf_map__update_elem(skel_->maps.pending_exec, &key, sizeof(key), &one, sizeof(one), BPF_ANY))
    throw common::Error(common::errno_message("registering the target for tracing", errno));
}

void BpfSession::run_iterator(bpf_program* prog) {
  bpf_link* link = bpf_program__attach_iter(prog, nullptr);
  if (!link) throw common::Error(common::errno_message("creating the task iterator", errno));
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = errno;
    bpf_link__destroy(link);
    throw common::Error(common::errno_message("running the task iterator", err));
  }
  char buf[256];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
  bpf_link__destroy(link);
}

void BpfSession::mark_processes(std::span<const pid_t> tgids) {
  uint8_t one = 1;
  for (pid_t pid : tgids) {
    uint32_t key = static_cast<uint32_t>(pid);
    if (bpf_map__update_elem(skel_->maps.seed_tgids, &key, sizeof(key), &one, sizeof(one), BPF_ANY))
      throw common::Error(common::errno_message("seeding process " + std::to_string(pid), errno));
  }
  // Two passes: a child whose pid is lower than its parent's (pid wrap) is
  // only caught once the parent is in the seed set.
  run_iterator(skel_->progs.mark_tree);
  run_iterator(skel_->progs.mark_tree);
}

void BpfSession::mark_cgroup_members() { run_iterator(skel_->progs.mark_cgroup); }

std::optional<std::string> BpfSession::stop_and_drain() {
  // Every program but the iterator goes: none can add a check behind the drain.
  const bpf_object_skeleton* sk = skel_->skeleton;
  for (int i = 0; i < sk->prog_cnt; ++i) {
    bpf_link** link = sk->progs[i].link;
    if (*sk->progs[i].prog == skel_->progs.drain_batches || !*link) continue;
    bpf_link__destroy(*link);
    *link = nullptr;
  }
  // A detached program may still be running on another CPU. Our programs run
  // in RCU read-side sections, and membarrier's global command waits for an
  // RCU grace period, so after it none is.
  if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) usleep(50'000);
  int fd = bpf_iter_create(bpf_link__fd(skel_->links.drain_batches));
  if (fd < 0) return common::errno_message("collecting the checks still batched in the kernel", errno);
  char buf[256];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
  return std::nullopt;
}

int BpfSession::ringbuf_fd() const { return bpf_map__fd(skel_->maps.events); }

BpfCounters BpfSession::read_counters() const {
  BpfCounters out;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  for (uint32_t i = 0; i < CAPAUDIT_CNT_MAX; ++i) {
    if (bpf_map__lookup_elem(skel_->maps.counters, &i, sizeof(i), per_cpu.data(),
                             per_cpu.size() * sizeof(uint64_t), 0))
      continue;
    for (auto v : per_cpu) out.values[i] += v;
  }
  return out;
}

uint64_t BpfSession::hook_misses() const {
  std::vector<int> fds;
  bpf_program* p;
  bpf_object__for_each_program(p, skel_->obj) fds.push_back(bpf_program__fd(p));
  return recursion_misses(fds);
}

}  // namespace capaudit::record
