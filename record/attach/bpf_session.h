// The attached BPF side, and talking to it while the recording runs.
// BpfSession::open() runs the three stages that make it (probe/, load/,
// attach/); everything kernel-facing that needs libbpf lives behind them and
// this class, so the rest of record/ deals in plain values.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/capaudit.h"
#include "common/result.h"
#include "common/trace.h"
#include "record/bpf_config.h"
#include "record/load/programs.h"

struct bpf_program;

namespace capaudit::record {

// The kernel side's per-CPU counters, summed over CPUs.
struct BpfCounters {
  std::array<uint64_t, CAPAUDIT_CNT_MAX> values{};
  uint64_t operator[](capaudit_counter c) const { return values[c]; }
};

// Runs of the programs behind PROG_FDS that the kernel skipped because the
// same program was already running on that CPU (bpf_prog_info.recursion_misses,
// Linux 5.12+), summed. A negative fd (a program that was not loaded) and a
// kernel without the field (its shorter info leaves it zero) count nothing.
uint64_t recursion_misses(std::span<const int> prog_fds);

class BpfSession {
 public:
  // Probes the hooks in order, loads and attaches (probe_hooks,
  // load_programs, attach_programs). Every probed hook lands in `attempts`
  // with its reason. Fails when no hook works or a required program does not
  // load or attach.
  static common::Result<std::unique_ptr<BpfSession>> open(const BpfConfig& config);

  ~BpfSession();
  BpfSession(const BpfSession&) = delete;
  BpfSession& operator=(const BpfSession&) = delete;

  common::Hook hook() const { return hook_; }
  const std::vector<common::HookAttempt>& attempts() const { return attempts_; }
  bool opts_available() const { return opts_available_; }
  uint64_t ringbuf_bytes() const { return ringbuf_bytes_; }
  common::FactsSource facts_source() const { return facts_source_; }
  common::OutcomeTracking outcome_tracking() const { return outcome_tracking_; }
  // Why the facts came from where they did ("cgroup programs on /sys/fs/cgroup/unified").
  const std::string& facts_reason() const { return facts_reason_; }
  // Link facts at may_linkat() (--facts sys_exit): recorded, and how or why not.
  bool link_facts() const { return link_facts_; }
  const std::string& link_facts_reason() const { return link_facts_reason_; }

  // OutcomeMode::first_denial: attaches the syscall-exit program now (opens
  // an outcome window). Returns CLOCK_BOOTTIME at which it was attached
  // (denials from then on get their outcome). A no-op returning the window's
  // start when one is open.
  common::Result<uint64_t> open_outcome_window();
  // Detaches it again (in_windows only). Returns CLOCK_BOOTTIME after the
  // detach, or 0 when no window was open.
  uint64_t close_outcome_window();
  bool outcomes_live() const { return window_start_ns_ != 0; }
  uint64_t window_start_ns() const { return window_start_ns_; }
  // When tracking first began (the first window's start; 0: never).
  uint64_t outcomes_from_ns() const { return outcomes_from_ns_; }

  // Trace PID from its next exec (the launcher holds it before exec).
  common::Result<> expect_exec(pid_t pid);
  // Mark existing processes (and, transitively, their children) as traced.
  common::Result<> mark_processes(std::span<const pid_t> tgids);
  // Mark every task already in the filter cgroup.
  common::Result<> mark_cgroup_members();

  // End of a recording: detaches every program, then sends the checks that
  // still wait in the kernel's per-task batches to the ring buffer. Needs no
  // capability (the iterator was made at open). Fails when they could not be
  // collected.
  common::Result<> stop_and_drain();

  int ringbuf_fd() const;
  BpfCounters read_counters() const;
  // recursion_misses() over every program this session loaded: a skipped run
  // of the capability hook is a lost check, of a lifecycle, syscall-exit,
  // cgroup or caller program a lost fork/exec/exit/outcome/fact.
  uint64_t hook_misses() const;

 private:
  BpfSession() = default;
  common::Result<> run_iterator(bpf_program* prog);

  Skeleton skel_;
  common::Hook hook_ = common::Hook::unknown;
  std::vector<common::HookAttempt> attempts_;
  bool opts_available_ = false;
  uint64_t ringbuf_bytes_ = 0;
  common::FactsSource facts_source_ = common::FactsSource::sys_exit;
  common::OutcomeTracking outcome_tracking_ = common::OutcomeTracking::from_start;
  std::string facts_reason_;
  bool link_facts_ = false;
  std::string link_facts_reason_;
  uint64_t outcomes_from_ns_ = 0;
  uint64_t window_start_ns_ = 0;  // the open window's start (0: none open)
  uint32_t windows_opened_ = 0;   // numbers the windows for the kernel side's pending flags
};

}  // namespace capaudit::record
