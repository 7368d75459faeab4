// Loading, attaching and talking to the BPF side. Everything kernel-facing
// that needs libbpf lives behind this class so the rest of record/ deals in
// plain values.
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
#include "common/trace.h"

struct capaudit_bpf;  // generated skeleton
struct bpf_program;

namespace capaudit::record {

enum class HookChoice : uint8_t { automatic, tp_btf, fexit, kprobe };

// "auto", "tp_btf", "fexit", "kprobe"; nullopt-like failure signalled by false.
bool parse_hook_choice(const std::string& text, HookChoice& out);

// When denied-syscall outcomes are tracked. The syscall-exit tracepoint they
// need slows every syscall of every task on the host while it is attached.
enum class OutcomeMode : uint8_t { all, first_denial, off };
// "all", "first-denial", "off".
bool parse_outcome_mode(const std::string& text, OutcomeMode& out);

// Where bind()/socket() facts come from: cgroup programs when they attach
// (automatic), or the syscall-exit tracepoint (sees refused sockets and return
// values, at the host-wide cost above).
enum class FactsChoice : uint8_t { automatic, sys_exit };
// "auto", "sys_exit".
bool parse_facts_choice(const std::string& text, FactsChoice& out);

struct BpfConfig {
  HookChoice hook = HookChoice::automatic;
  uint32_t stacks_per_key = 4;
  // past the budget: distinct call paths per key that still take a stack (<= CAPAUDIT_PATH_SIGS)
  uint32_t paths_per_key = CAPAUDIT_PATH_SIGS;
  bool user_stacks = false;              // walk the user stack of each sampled check
  uint64_t ringbuf_bytes = 16ull << 20;  // rounded up to a power of two
  uint64_t cgroup_id = 0;                // 0: no cgroup filter
  std::string cgroup_path;               // the same cgroup (v2 directory), when cgroup_id is set
  pid_t recorder_tgid = 0;               // never traced
  OutcomeMode outcomes = OutcomeMode::first_denial;
  // first_denial: outcome windows (OutcomeTracking::in_windows) closed after
  // this long without a denial; 0 keeps the first one open to the end
  // (OutcomeTracking::from_first_denial).
  uint64_t outcome_window_ns = 0;
  FactsChoice facts = FactsChoice::automatic;
  bool verbose = false;                  // pass libbpf's own messages to stderr
};

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

// Whether cap_capable()'s 4th parameter is `unsigned int opts` on this kernel,
// decided from BTF rather than the version number (it was `int audit` before 5.1).
bool kernel_cap_capable_has_opts();

class BpfSession {
 public:
  // Probes the hooks in order, loads and attaches. Every probed hook lands in
  // `attempts` with its reason. Throws common::Error when no hook works.
  static std::unique_ptr<BpfSession> open(const BpfConfig& config);

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

  // OutcomeMode::first_denial: attaches the syscall-exit program now (opens
  // an outcome window). Returns CLOCK_BOOTTIME at which it was attached
  // (denials from then on get their outcome), or 0 and an error text. A no-op
  // returning the window's start when one is open.
  uint64_t open_outcome_window(std::string* error);
  // Detaches it again (in_windows only). Returns CLOCK_BOOTTIME after the
  // detach, or 0 when no window was open.
  uint64_t close_outcome_window();
  bool outcomes_live() const { return window_start_ns_ != 0; }
  uint64_t window_start_ns() const { return window_start_ns_; }
  // When tracking first began (the first window's start; 0: never).
  uint64_t outcomes_from_ns() const { return outcomes_from_ns_; }

  // Trace PID from its next exec (the launcher holds it before exec).
  void expect_exec(pid_t pid);
  // Mark existing processes (and, transitively, their children) as traced.
  void mark_processes(std::span<const pid_t> tgids);
  // Mark every task already in the filter cgroup.
  void mark_cgroup_members();

  // End of a recording: detaches every program, then sends the checks that
  // still wait in the kernel's per-task batches to the ring buffer. Needs no
  // capability (the iterator was made at open). Returns an error text when
  // they could not be collected.
  std::optional<std::string> stop_and_drain();

  int ringbuf_fd() const;
  BpfCounters read_counters() const;
  // recursion_misses() over every program this session loaded: a skipped run
  // of the capability hook is a lost check, of a lifecycle, syscall-exit,
  // cgroup or caller program a lost fork/exec/exit/outcome/fact.
  uint64_t hook_misses() const;

 private:
  BpfSession() = default;
  void run_iterator(bpf_program* prog);
  // Opens the skeleton into skel_ and sets its read-only configuration.
  capaudit_bpf* open_skeleton(const BpfConfig& config);
  // Adds what became of the probes on callers that inline cap_capable to the
  // used hook's attempt (and stderr).
  void note_inlined_callers(common::Hook hook, size_t attached, const std::vector<std::string>& problems,
                            bool verbose);

  struct SkelDeleter {
    void operator()(capaudit_bpf* s) const;
  };
  std::unique_ptr<capaudit_bpf, SkelDeleter> skel_;
  common::Hook hook_ = common::Hook::unknown;
  std::vector<common::HookAttempt> attempts_;
  bool opts_available_ = false;
  uint64_t ringbuf_bytes_ = 0;
  common::FactsSource facts_source_ = common::FactsSource::sys_exit;
  common::OutcomeTracking outcome_tracking_ = common::OutcomeTracking::from_start;
  std::string facts_reason_;
  uint64_t outcomes_from_ns_ = 0;
  uint64_t window_start_ns_ = 0;  // the open window's start (0: none open)
  uint32_t windows_opened_ = 0;   // numbers the windows for the kernel side's pending flags
};

}  // namespace capaudit::record
