// The in-memory shape of a capaudit trace: plain value types shared by the
// recorder (which fills them) and the analyzer (which reads them). The on-disk
// encoding (schema/trace.capnp + zstd framing) is private to common/; nothing
// outside common/ includes Cap'n Proto headers for the trace.
//
// Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns), so they are
// comparable with task start times; Header::clock maps them to wall time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace capaudit::common {

// Which kernel hook produced the capability checks.
enum class Hook : uint8_t { unknown = 0, tp_btf = 1, fexit = 2, kprobe = 3 };

// Where bind()/socket() operation facts come from.
enum class FactsSource : uint8_t {
  sys_exit = 0,      // syscall-exit tracepoint: every attempt, with its return value
  cgroup_hooks = 1,  // cgroup bind/sock_create programs: no return value; sockets refused
                     // before the hook (ping_group_range) are not seen
  none = 2,
};

// When the return value of a syscall with a denied check is recorded.
enum class OutcomeTracking : uint8_t {
  from_start = 0,
  from_first_denial = 1,  // from Trailer::outcomes_from_ns on
  off = 2,
  in_windows = 3,  // (1.6) inside the OutcomeWindows: attached on a denial, detached after a quiet time
};

// How the return value of a syscall with a denied check is taken (1.5).
enum class OutcomeMechanism : uint8_t {
  sys_exit = 0,  // the syscall-exit tracepoint: host-wide slow path while attached (all traces before 1.5)
  none = 1,      // outcomes off
};

// How the recorder chose what to trace.
enum class TargetMode : uint8_t { unknown = 0, command = 1, pid = 2, cgroup = 3 };

struct KeyValue {
  std::string key;    // sysctl in dotted form: "net.ipv4.ip_unprivileged_port_start"
  std::string value;  // as read from /proc/sys, trailing newline removed

  bool operator==(const KeyValue&) const = default;
};

struct Rlimit {
  int32_t resource = 0;    // RLIMIT_* number
  std::string name;        // "RLIMIT_MEMLOCK"
  uint64_t soft = 0;       // UINT64_MAX = RLIM_INFINITY
  uint64_t hard = 0;

  bool operator==(const Rlimit&) const = default;
};

struct HookAttempt {
  Hook hook = Hook::unknown;
  bool used = false;
  std::string reason;  // why it was used or skipped ("fexit refused: EPERM")

  bool operator==(const HookAttempt&) const = default;
};

struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t bounding = 0;
  uint64_t ambient = 0;

  bool operator==(const CapSets&) const = default;
};

// security.capability xattr of an executable, decoded.
struct FileCaps {
  uint32_t version = 0;  // VFS_CAP_REVISION_1/2/3 >> 24
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  bool effective = false;
  uint32_t rootid = 0;   // v3 only

  bool operator==(const FileCaps&) const = default;
};

// A container under the traced cgroup, as its engine names it (1.6).
struct ContainerName {
  std::string id;      // full id, as in the cgroup path
  std::string name;    // "" when no engine knew it
  std::string engine;  // "podman", "docker" or ""
  std::string cgroup;  // cgroup path as exec events show it

  bool operator==(const ContainerName&) const = default;
};

struct Header {
  // Filled by the writer/reader, not by the recorder.
  uint32_t format_major = 0;
  uint32_t format_minor = 0;

  // recorder section
  std::string recorder_version;
  std::vector<std::string> recorder_argv;
  TargetMode target_mode = TargetMode::unknown;
  std::string target;  // command line, pid or cgroup path, human-readable
  std::vector<ContainerName> containers;  // 1.6: containers under the traced cgroup, named by their engine

  // host/kernel section
  std::string hostname;
  std::string kernel_release;  // uname -r
  std::string kernel_version;  // uname -v
  std::string arch;            // uname -m
  std::string boot_id;         // /proc/sys/kernel/random/boot_id
  std::string lockdown;        // "[none] integrity confidentiality" → "integrity"? raw text
  std::vector<std::string> lsms;
  uint64_t init_userns_inum = 0;  // inode of the initial user namespace
  // 1.9: the kernel's build configuration as far as the rules read it:
  // "CONFIG_NAME" -> "y", "m", the text after '=', "n" ("# ... is not set")
  // or "absent" (not in the file). No source: unknown (missing says why;
  // traces before 1.9 say nothing at all).
  std::string kernel_config_source;  // "/proc/config.gz", "/boot/config-6.1.0-31-cloud-amd64", "" = none read
  std::vector<KeyValue> kernel_config;
  std::string kernel_config_missing;

  // clock section: one pair of readings taken together
  uint64_t clock_boottime_ns = 0;
  int64_t clock_realtime_ns = 0;

  // sysctl section
  std::vector<KeyValue> sysctls_global;
  std::vector<KeyValue> sysctls_netns;  // of the target's network namespace
  uint64_t target_netns_inum = 0;
  std::vector<Rlimit> target_rlimits;

  // hook section
  FactsSource facts_source = FactsSource::sys_exit;
  std::string facts_reason;  // "cgroup programs ... on /sys/fs/cgroup", or why not
  bool cred_changes = false;  // every credential change is recorded: none in the trace means none happened
  OutcomeTracking outcome_tracking = OutcomeTracking::from_start;
  OutcomeMechanism outcome_mechanism = OutcomeMechanism::sys_exit;
  std::string outcome_reason;  // what starts outcome tracking (which denials may), and why (1.5)
  uint64_t outcome_window_ns = 0;  // in_windows: the quiet time (no further denial) that closes a window (1.6)
  // 1.9: link operation facts (OpKind::link, at may_linkat()) were recorded
  // for the whole recording; the reason says how, or why not (older traces:
  // false and empty).
  bool link_facts = false;
  std::string link_facts_reason;

  // split section (1.6): one recording in numbered files; empty run id = not split
  std::string split_run_id;
  uint32_t split_piece = 0;  // 1, 2, ...
  Hook hook = Hook::unknown;
  std::vector<HookAttempt> hook_attempts;
  bool opts_available = false;  // whether CapCheck::opts is meaningful

  // sampling and limits section
  uint32_t stacks_per_key = 0;    // kernel stacks captured per (task, cap, syscall, verdict) key
  bool user_stacks = false;
  uint64_t ringbuf_bytes = 0;
  uint32_t max_tasks = 0;
  uint32_t max_stacks = 0;
  uint32_t user_stack_depth = 0;  // 1.6: most frames a user stack may hold (0: user stacks off)
  // 1.7: past the budget, checks on a path new to their key still take a
  // stack, up to paths_per_key paths per key (0: off, every older trace); a
  // path is path_frames frames above the hook; the first path_free_checks
  // checks of a key past the budget are compared, then the 2^k-th only.
  uint32_t paths_per_key = 0;
  uint32_t path_frames = 0;
  uint32_t path_free_checks = 0;

  bool operator==(const Header&) const = default;
};

// Whose credentials a capability check used (schema CapCheckColumns.checkedCred).
enum class CheckedCred : uint8_t {
  own = 0,      // the task's own (cred == task->real_cred)
  derived = 1,  // a copy with the task's uid, user ns and permitted set (access()'s override)
  foreign = 2,  // another identity: uid, user ns or permitted set differ (overlayfs mounter, ...)
};

// One capability check, as cap_capable() saw it.
struct CapCheck {
  uint64_t time_ns = 0;
  uint32_t pid = 0;  // tgid
  uint32_t tid = 0;
  int32_t cap = 0;
  bool granted = false;
  int32_t syscall_nr = -1;  // -1: not in a syscall (kernel thread, exec, ...)
  uint32_t opts = 0;        // CAP_OPT_* bits, meaningful iff Header::opts_available
  uint64_t target_userns_inum = 0;
  uint32_t stack_id = 0;    // 0 = no kernel stack stored for this check
  // 0: time_ns is the check's own time. Otherwise a repeat of the task's
  // previous check whose clock was not read (1.4): it happened in
  // [time_ns, time_ns + time_spread_ns].
  uint64_t time_spread_ns = 0;
  // Whose credentials were checked (1.5): the hook's cred argument against
  // the task's real_cred. Only own credentials can be the program's need.
  CheckedCred checked_cred = CheckedCred::own;
  uint32_t checked_euid = 0;  // the checked cred's euid, for derived/foreign
  uint32_t user_stack_id = 0;  // 1.6: its user-space call path (UserStack::id); 0 = none stored

  bool operator==(const CapCheck&) const = default;
};

struct ForkEvent {
  uint64_t time_ns = 0;
  uint32_t parent_pid = 0;
  uint32_t parent_tid = 0;
  uint32_t child_pid = 0;
  uint32_t child_tid = 0;
  bool is_thread = false;
  uint64_t child_start_time_ns = 0;  // task->start_time, part of process identity

  bool operator==(const ForkEvent&) const = default;
};

struct ExecEvent {
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint32_t old_tid = 0;  // a non-leader thread that exec'd
  uint64_t start_time_ns = 0;
  std::string filename;  // path as passed to exec, resolved by the recorder when possible
  std::vector<std::string> argv;
  bool argv_truncated = false;
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  CapSets caps;  // after exec
  std::optional<FileCaps> file_caps;
  uint64_t cgroup_id = 0;
  std::string cgroup;  // path, resolved by the recorder when possible
  uint64_t userns_inum = 0;
  uint64_t netns_inum = 0;

  bool operator==(const ExecEvent&) const = default;
};

struct ExitEvent {
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint32_t tid = 0;
  int32_t exit_code = 0;  // raw wait status: (code << 8) | signal
  bool group_dead = false;  // the whole process ended (last thread)

  bool operator==(const ExitEvent&) const = default;
};

// The outcome of a syscall during which at least one check was denied.
struct SyscallOutcome {
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint32_t tid = 0;
  int32_t syscall_nr = -1;
  int64_t ret = 0;  // raw return value (-errno on failure)

  bool operator==(const SyscallOutcome&) const = default;
};

// How an outcome window ended (1.6).
enum class WindowEnd : uint8_t {
  open = 0,           // not closed when the record was written (a later record closes it)
  quiet = 1,          // no further denial for Header::outcome_window_ns
  recording_end = 2,  // the recording ended with it open
};

// One stretch of time with the syscall-exit tracepoint attached (1.6): a
// denied check in [start_ns, end_ns) has its syscall's return value recorded,
// one outside every window has not. A window is written when it opens
// (end_ns 0) and again, complete, when it closes; readers keep the last
// record of each start_ns.
struct OutcomeWindow {
  uint64_t start_ns = 0;         // attached (BOOTTIME)
  uint64_t end_ns = 0;           // detached; 0 = open when written
  uint64_t trigger_time_ns = 0;  // the denied check that opened it (its own outcome is not recorded)
  uint32_t trigger_pid = 0;
  uint32_t trigger_tid = 0;
  int32_t trigger_cap = -1;
  int32_t trigger_syscall = -1;
  WindowEnd closed_by = WindowEnd::open;
  uint64_t denials = 0;  // non-advisory denied checks the recorder saw inside it

  bool operator==(const OutcomeWindow&) const = default;
};

enum class CapsetSource : uint8_t {
  capset_syscall = 0,  // masks a successful capset() installed (formats 1.0, 1.1)
  cred_change = 1,     // the thread's credentials changed (capset, setuid, ...): noticed
                       // at its next check, fork or exit, i.e. before any later check
};

struct CredIds {
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0;

  bool operator==(const CredIds&) const = default;
};

// A thread's new capability sets.
struct CapsetEvent {
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  CapsetSource source = CapsetSource::capset_syscall;
  uint64_t ambient = 0;        // cred_change only
  std::optional<CredIds> ids;  // cred_change only

  bool operator==(const CapsetEvent&) const = default;
};

// Operations whose capability need depends on a sysctl or rlimit, recorded
// whether or not a check happened (DESIGN section 5).
enum class OpKind : uint8_t {
  unknown = 0,
  bind = 1,             // a0 family, a1 port, a2 socket type, a3 protocol
  socket = 2,           // a0 family, a1 type, a2 protocol
  ptrace_attach = 3,    // a0 target pid, a1 request
  perf_event_open = 4,  // a0 pid, a1 cpu, a2 attr.type, a3 attr.exclude_kernel
  bpf = 5,              // a0 cmd
  io_uring_setup = 6,   // a0 entries
  userfaultfd = 7,      // a0 flags
  unshare_userns = 8,   // a0 flags
  mmap_low = 9,         // a0 addr
  // 1.9: taken at fs/namei.c may_linkat()'s entry (--facts sys_exit, where
  // fentry or kprobes attach), inside link()/linkat(): args, state (the
  // source inode and the caller's fs ids, StateSlot::link_src_uid..); no ret.
  link = 10,
  set_pipe_size = 11,   // a0 size
  mq_open = 12,         // a0 maxmsg, a1 msgsize
  mlock = 13,           // a0 len
  sched_setscheduler = 14,  // a0 policy, a1 priority
  setrlimit = 15,       // a0 resource, a1 soft, a2 hard
  syslog = 16,          // a0 type
  open_sensitive = 17,  // a0 file id (see docs/trace-format.md)
  // 1.5: the context of one capability check, taken in the kernel at the
  // check: cap, granted, stack_id, args, user_words, state.
  cap_check = 18,
  // 1.8: setpriority(), at its syscall's exit (--facts sys_exit), like the
  // kinds 3..17 the recorder now emits there: args, user_words, state.
  setpriority = 19,
};

// The kinds the recorder takes at a syscall's exit (--facts sys_exit, 1.8):
// 3..17 and setpriority. Not bind/socket (facts of their own, with their
// own rules), not a check's context, not a kind this build does not know.
// link (1.9) is taken inside its syscall, at may_linkat(), but like these
// whether or not a check happens, so a rule reads it the same way.
constexpr bool taken_at_exit(OpKind k) {
  return (k >= OpKind::ptrace_attach && k <= OpKind::open_sensitive) || k == OpKind::setpriority;
}

// Positions in OperationFact::state: kernel state a gate compares against,
// read at the check (or at the operation). kStateUnset = not recorded.
enum class StateSlot : uint8_t {
  locked_vm = 0,       // mm->locked_vm, pages
  memlock_soft = 1,    // RLIMIT_MEMLOCK soft (RLIM_INFINITY reads as -1)
  rtprio_soft = 2,     // RLIMIT_RTPRIO soft
  nice_soft = 3,       // RLIMIT_NICE soft
  arg_rlimit_hard = 4, // hard limit of the resource prlimit64()/setrlimit() names
  mmap_min_addr = 5,   // vm.mmap_min_addr (dac_mmap_min_addr)
  port_start = 6,      // net.ipv4.ip_unprivileged_port_start of the operation's network namespace
  // 1.9, link facts only (may_linkat()): the source inode and the caller
  link_src_uid = 7,        // source inode's i_uid (unmapped)
  link_src_gid = 8,        // its i_gid
  link_src_mode = 9,       // its i_mode (type and permission bits)
  fsuid = 10,              // the caller's fsuid (current_cred())
  fsgid = 11,              // the caller's fsgid
  link_src_in_groups = 12, // 1: the source's gid is one of the caller's supplementary groups, 0: not
  count = 13,
};
inline constexpr int64_t kStateUnset = INT64_MIN;
// The slots every fact with a context carries (1.5..1.8); the link slots
// (7..12) are stored only when a link fact filled them.
inline constexpr size_t kContextStateSlots = 7;

struct OperationFact {
  uint64_t time_ns = 0;
  uint32_t pid = 0;
  uint32_t tid = 0;
  OpKind kind = OpKind::unknown;
  int32_t syscall_nr = -1;
  int64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  uint32_t uid = 0;   // effective ids at the time of the operation
  uint32_t gid = 0;
  std::optional<int64_t> ret;  // syscall return, when the recorder saw it
  // 1.5 (docs/trace-format.md)
  int32_t cap = 0;             // cap_check: the capability (unused otherwise)
  bool granted = false;        // cap_check: the verdict
  uint32_t stack_id = 0;       // cap_check: its call path (0: none)
  std::vector<int64_t> args;   // cap_check: the six syscall argument registers
  std::vector<int64_t> user_words;  // cap_check: words at the syscall's pointer argument
  std::vector<int64_t> state;  // StateSlot positions; kStateUnset = not recorded

  // Slot S of `state`, when recorded.
  std::optional<int64_t> state_at(StateSlot s) const {
    auto i = static_cast<size_t>(s);
    if (i >= state.size() || state[i] == kStateUnset) return std::nullopt;
    return state[i];
  }

  bool operator==(const OperationFact&) const = default;
};

// A symbolized kernel call path, stored once; CapCheck::stack_id refers to it.
struct KernelStack {
  uint32_t id = 0;  // >= 1
  std::vector<std::string> frames;  // innermost first: "cap_capable+0x5"

  bool operator==(const KernelStack&) const = default;
};

// One frame of a user-space call path (1.6). The kernel names the file an
// address belongs to by build ID and file offset, so the analysis machine can
// symbolize without the recording host; the path is what the recorder saw
// mapped there and only a hint (the file may have been replaced since).
struct UserFrame {
  uint64_t ip = 0;           // the raw address, always kept
  std::string build_id;      // lowercase hex; empty: the kernel could not read it
  std::string path;          // the mapped file; empty: unknown
  uint64_t file_offset = 0;  // offset in that file; meaningful iff has_offset
  bool has_offset = false;

  bool operator==(const UserFrame&) const = default;
};

// The word at the user stack pointer when the syscall was entered (1.7),
// read with a user stack: the return address into the syscall wrapper's
// caller when the wrapper is a leaf (libc's), anything otherwise. A fact, not
// a frame: the analyzer decides whether to use it (analyze/core/findings.h).
struct UserLeaf {
  // ip: the word read. build_id/path/file_offset: named as a frame would be,
  // only when it lies in an executable file mapping.
  UserFrame word;
  uint64_t code_before = 0;  // the 8 bytes of the task's memory ending at word.ip (little-endian)
  bool has_code = false;

  bool operator==(const UserLeaf&) const = default;
};

// A user-space call path, stored once; CapCheck::user_stack_id refers to it.
struct UserStack {
  uint32_t id = 0;                 // >= 1
  std::vector<UserFrame> frames;   // innermost first, as deep as the kernel could walk
  std::optional<UserLeaf> leaf;    // 1.7: not read (older traces, or the read failed)

  bool operator==(const UserStack&) const = default;
};

// A process that already existed when recording started (-p, --cgroup).
struct ProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t start_time_ns = 0;
  std::string exe;
  std::vector<std::string> argv;
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  CapSets caps;
  std::optional<FileCaps> file_caps;
  std::string cgroup;

  bool operator==(const ProcessInfo&) const = default;
};

struct EventCounts {
  uint64_t cap_checks = 0;
  uint64_t forks = 0;
  uint64_t execs = 0;
  uint64_t exits = 0;
  uint64_t outcomes = 0;
  uint64_t capsets = 0;
  uint64_t operations = 0;
  uint64_t stacks = 0;
  uint64_t user_stacks = 0;  // 1.6

  bool operator==(const EventCounts&) const = default;
};

// Everything the recorder knows it did not record. All zero = complete.
struct Losses {
  uint64_t ringbuf_drops = 0;       // events the kernel could not reserve space for
  uint64_t task_map_full = 0;       // tasks that should have been traced but had no storage
  uint64_t stack_map_full = 0;      // stack captures that failed (map full / error)
  uint64_t stacks_unsampled = 0;    // checks past the per-key stack budget (by design)
  uint64_t untraced_processes = 0;  // children the recorder knows it did not follow
  uint64_t outcomes_missed = 0;     // denied checks whose syscall exit was not seen
  uint64_t strings_truncated = 0;   // argv/path cut to the buffer size
  uint64_t decode_errors = 0;       // malformed records from the kernel side
  // Runs of our programs the kernel skipped because one was already running
  // on that CPU (bpf_prog_info.recursion_misses): each may be a lost check.
  uint64_t hook_misses = 0;
  // Sampled checks whose user-space stack walk failed (1.6): no user stack
  // stored although one was asked for. Not counted: kernel threads (none to walk).
  uint64_t user_stack_fail = 0;
  // 1.7: checks on a call path new to their (cap, syscall, verdict) key that
  // took no stack because the key already held paths_per_key paths: paths
  // may be missing from the trace.
  uint64_t paths_full = 0;
  // 1.7: checks past the stack budget that were not compared by path (the
  // walk's rate limit): a lower bound, counted at the next compared check.
  uint64_t paths_unchecked = 0;

  bool operator==(const Losses&) const = default;
};

struct Trailer {
  bool clean_shutdown = false;
  uint64_t end_time_ns = 0;
  std::string stop_reason;  // "target exited", "SIGINT", "duration", ...
  std::optional<int32_t> target_exit_status;  // raw wait status of the command
  EventCounts counts;
  Losses losses;
  uint64_t outcomes_from_ns = 0;  // OutcomeTracking::from_first_denial: when it began (0: never)
  bool max_size_reached = false;  // --max-size ended the recording (1.5): the target ran on unrecorded
  uint64_t outcome_windows = 0;     // in_windows: windows opened (1.6)
  uint64_t outcome_windows_ns = 0;  // their total length: host time on the slow syscall path (1.6)
  bool continued = false;  // split (1.6): the recording goes on in the next piece

  bool operator==(const Trailer&) const = default;
};

}  // namespace capaudit::common
