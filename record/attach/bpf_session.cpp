#include "record/attach/bpf_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "capaudit.skel.h"
#include "common/error.h"
#include "record/attach/attach.h"
#include "record/load/libbpf_log.h"
#include "record/load/load.h"
#include "record/probe/probe.h"

namespace capaudit::record {

common::Result<HookChoice> parse_hook_choice(const std::string& text) {
  if (text == "auto") return HookChoice::automatic;
  if (text == "tp_btf") return HookChoice::tp_btf;
  if (text == "fexit") return HookChoice::fexit;
  if (text == "kprobe") return HookChoice::kprobe;
  return common::fail("unknown hook '" + text + "'", "use auto, tp_btf, fexit or kprobe", 2);
}

common::Result<OutcomeMode> parse_outcome_mode(const std::string& text) {
  if (text == "all") return OutcomeMode::all;
  if (text == "first-denial") return OutcomeMode::first_denial;
  if (text == "off") return OutcomeMode::off;
  return common::fail("unknown --outcomes '" + text + "'", "use all, first-denial or off", 2);
}

common::Result<FactsChoice> parse_facts_choice(const std::string& text) {
  if (text == "auto") return FactsChoice::automatic;
  if (text == "sys_exit") return FactsChoice::sys_exit;
  return common::fail("unknown --facts '" + text + "'", "use auto or sys_exit", 2);
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

BpfSession::~BpfSession() = default;

common::Result<std::unique_ptr<BpfSession>> BpfSession::open(const BpfConfig& config) {
  install_libbpf_log(config.verbose);
  auto probed = probe_hooks(config.hook);
  if (!probed) return probed.error();
  const LinkChoice link = choose_link_method(config.facts, *probed);
  auto loaded = load_programs(config, probed->chosen, link.method, link.reason);
  if (!loaded) return loaded.error();
  auto attached = attach_programs(*loaded, config, probed->chosen);
  if (!attached) return attached.error();

  std::unique_ptr<BpfSession> session(new BpfSession());
  session->skel_ = std::move(loaded->skel);
  session->hook_ = probed->chosen;
  session->attempts_ = std::move(probed->attempts);
  session->opts_available_ = probed->opts_available;
  session->ringbuf_bytes_ = loaded->ringbuf_bytes;
  session->facts_source_ = attached->facts_source;
  session->facts_reason_ = std::move(attached->facts_reason);
  session->link_facts_ = attached->link_facts;
  session->link_facts_reason_ = std::move(attached->link_reason);
  // Asked for and not there: the link rules cannot predict from this recording.
  if (config.facts == FactsChoice::sys_exit && (config.verbose || !session->link_facts_))
    fprintf(stderr, "capaudit-record: link facts (may_linkat): %s\n", session->link_facts_reason_.c_str());
  session->outcome_tracking_ = attached->outcome_tracking;
  if (attached->outcomes_from_ns) {
    session->windows_opened_ = 1;
    session->outcomes_from_ns_ = session->window_start_ns_ = attached->outcomes_from_ns;
  }
  if (attached->callers_text) {
    // A missing caller probe is a blind spot: said even without -v.
    for (auto& a : session->attempts_)
      if (a.used) a.reason += "; " + *attached->callers_text;
    if (config.verbose || attached->callers_missing)
      fprintf(stderr, "capaudit-record: %s\n", attached->callers_text->c_str());
  }
  return session;
}

common::Result<uint64_t> BpfSession::open_outcome_window() {
  if (window_start_ns_) return window_start_ns_;
  if (outcome_tracking_ != common::OutcomeTracking::from_first_denial &&
      outcome_tracking_ != common::OutcomeTracking::in_windows)
    return common::fail("outcome tracking is off");
  auto* skel = skel_.get();
  skel->links.on_sys_exit = bpf_program__attach(skel->progs.on_sys_exit);
  if (!skel->links.on_sys_exit)
    return common::fail("attaching tp_btf/sys_exit failed: " + failure_reason("attach", errno));
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

common::Result<> BpfSession::expect_exec(pid_t pid) {
  uint32_t key = static_cast<uint32_t>(pid);
  uint8_t one = 1;
  if (bpf_map__update_elem(skel_->maps.pending_exec, &key, sizeof(key), &one, sizeof(one), BPF_ANY))
    return common::fail(common::errno_message("registering the target for tracing", errno));
  return {};
}

common::Result<> BpfSession::run_iterator(bpf_program* prog) {
  bpf_link* link = bpf_program__attach_iter(prog, nullptr);
  if (!link) return common::fail(common::errno_message("creating the task iterator", errno));
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = errno;
    bpf_link__destroy(link);
    return common::fail(common::errno_message("running the task iterator", err));
  }
  char buf[256];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
  bpf_link__destroy(link);
  return {};
}

common::Result<> BpfSession::mark_processes(std::span<const pid_t> tgids) {
  uint8_t one = 1;
  for (pid_t pid : tgids) {
    uint32_t key = static_cast<uint32_t>(pid);
    if (bpf_map__update_elem(skel_->maps.seed_tgids, &key, sizeof(key), &one, sizeof(one), BPF_ANY))
      return common::fail(common::errno_message("seeding process " + std::to_string(pid), errno));
  }
  // Two passes: a child whose pid is lower than its parent's (pid wrap) is
  // only caught once the parent is in the seed set.
  if (auto r = run_iterator(skel_->progs.mark_tree); !r) return r;
  return run_iterator(skel_->progs.mark_tree);
}

common::Result<> BpfSession::mark_cgroup_members() { return run_iterator(skel_->progs.mark_cgroup); }

common::Result<> BpfSession::stop_and_drain() {
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
  if (fd < 0) return common::fail(common::errno_message("collecting the checks still batched in the kernel", errno));
  char buf[256];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
  return {};
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
