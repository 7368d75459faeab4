// Load stage: a TraceVisitor that folds one trace's event stream into compact
// per-process aggregates. Memory grows with the number of distinct processes,
// call paths and operation shapes, never with the number of events.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyze/core/load_types.h"
#include "common/trace.h"
#include "common/trace_io.h"

namespace capaudit::analyze {

// All checks of one shape in one process.
struct CheckAgg {
  int32_t syscall_nr = -1;
  uint32_t stack_id = 0;
  uint64_t userns = 0;
  uint32_t user_stack_id = 0;  // format 1.6: its user-space call path (RunAggregate::user_stacks)
  int16_t cap = 0;
  bool granted = false;
  bool noaudit = false;  // CAP_OPT_NOAUDIT, meaningful iff Header::opts_available
  // Denied checks whose syscall outcome the recorder was not tracking
  // (Header::outcome_tracking off, or before Trailer::outcomes_from_ns).
  // Set by Aggregator::finish(), which splits a shape that straddles the
  // window start in two. Fits the padding (with user_stack_id: 56 bytes).
  bool outcome_untracked = false;
  // Whose credentials the check used (format 1.5); only `own` and `derived`
  // (built from the task's own, as access() does) are the program's.
  common::CheckedCred cred = common::CheckedCred::own;
  uint64_t count = 0;
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
};

// All operation facts of one shape (kind, syscall, arguments, ids) in one process.
struct OpAgg {
  common::OpKind kind = common::OpKind::unknown;
  int32_t syscall_nr = -1;
  int64_t a[4] = {0, 0, 0, 0};
  uint32_t uid = 0, gid = 0;
  uint64_t count = 0;
  uint64_t first_ns = 0;
  std::optional<int64_t> ret;  // last seen
  // cap_check facts (format 1.5) and bind's netns value: see common::OperationFact.
  int32_t cap = 0;
  bool granted = false;
  uint32_t stack_id = 0;
  std::vector<int64_t> args, user_words, state;
};

// Outcomes of syscalls that contained a denied check, by syscall.
struct OutcomeAgg {
  int32_t syscall_nr = -1;
  DenialAssessment counts;  // no_outcome unused here
  // The distinct negative return values, in the order seen, at most
  // kMaxOutcomeErrors: a verify verdict names the errno of a lost operation.
  std::vector<int64_t> errors;
};
inline constexpr size_t kMaxOutcomeErrors = 4;

// What a process image runs and with which credentials and sets: one record,
// made from the snapshot (ProcessInfo) or an exec (ExecEvent) by
// image_state(), and copied whole by fork(), so the three agree.
struct ImageState {
  std::string exe;             // "" when the trace never said
  std::vector<std::string> argv;
  std::string cgroup;          // from its exec or the snapshot, else its parent's (fork)
  // A container engine/runtime's image (is_runtime_exe), or one forked from
  // such an image, or what such a fork exec'd (CNI plugins, iptables). The
  // container program is exec'd in place by runc init, not by a fork: it is not.
  bool runtime = false;
  // `runc init` / `crun init`, or a fork of it (nsexec clones): what it execs
  // is the container's program, not a runtime helper.
  bool runtime_init = false;
  bool ids_known = false;
  uint32_t uid = 0, euid = 0, gid = 0;  // real uid, effective uid, real gid where the image began
  std::optional<common::CredIds> cred_ids;  // current ids: exec, snapshot or the last credential change
  std::optional<common::CapSets> caps;  // after exec / at snapshot
  std::optional<common::FileCaps> file_caps;
  bool sets_known = false;
  uint64_t cur_permitted = 0, cur_effective = 0, cur_inheritable = 0;
  uint64_t first_drop_ns = UINT64_MAX;  // first change lowering permitted/effective
};

// One process image: a pid between two execs (identity: boot id, pid, start time, exec).
struct ProcessAgg : ImageState {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t start_time_ns = 0;  // task start; with boot id and pid the process identity
  uint64_t begin_ns = 0;       // exec (or fork) time: where this image begins
  bool from_exec = false;      // begun by an exec (not a fork or the snapshot)
  // The trace never introduced this image (no fork, exec or snapshot): a
  // process that entered the traced cgroup on its own and made checks before
  // its first exec — a container runtime's `runc init` (podman exec), a
  // service manager's helper. Its program is not known.
  bool joined = false;
  std::optional<common::CredIds> exec_ids;  // the ids right after the exec (from_exec images)

  std::vector<CheckAgg> checks;
  std::vector<OpAgg> ops;
  std::vector<OutcomeAgg> outcomes;

  // capset_syscall traces: the union of every capset() mask. cred_change
  // traces: what the program kept (permitted|effective) at each capability
  // drop that did not also change its ids (capset/prctl, not setuid).
  CapMask capset_requested = 0;
  bool kept_by_drop = false;  // capset_requested comes from credential changes
  // A capset/credential change put a capability into the inheritable set that
  // was in neither the inheritable nor the permitted set before: the one case
  // where capset()'s CAP_SETPCAP check decides anything (cap_capset()).
  bool inheritable_raised = false;

  // The euids of the foreign credentials its checks were made with (few).
  std::vector<uint32_t> foreign_euids;

  size_t last_check = SIZE_MAX;  // lookup cache for hot loops
};

struct RunAggregate {
  std::string path;
  common::ReadResult read;
  bool has_header = false;
  common::Header header;
  std::optional<common::Trailer> trailer;
  std::vector<ProcessAgg> processes;
  std::unordered_map<uint32_t, std::vector<std::string>> stacks;  // id -> frames
  std::unordered_map<uint32_t, UserStackView> user_stacks;  // id -> frames (format 1.6; the leaf word judged, 1.7)
  std::unordered_map<uint32_t, uint32_t> parent;                  // pid -> parent pid
  uint64_t events = 0;
  uint64_t shapes_dropped = 0;  // distinct shapes beyond the per-process bound (counted, not kept)
  // Capset events by source: format 1.2 recorders report credential changes
  // (setuid away from root included), older ones only capset() calls.
  uint64_t capset_syscalls = 0, cred_changes = 0;
  // OutcomeTracking::in_windows (format 1.6): start_ns -> the window's last
  // record (end_ns 0: its close was never written, it ran to the end).
  std::map<uint64_t, common::OutcomeWindow> outcome_windows;
  // A split recording read as one (load_run): how many pieces, and what is
  // missing ("piece 2 of run 0a1b… missing"); any problem makes it incomplete.
  uint32_t pieces = 1;
  std::vector<std::string> split_problems;

  // Whether `pid` descends from `ancestor` in the recorded fork tree; unknown
  // when the trace never saw `pid` being forked.
  std::optional<bool> is_descendant(uint32_t pid, uint32_t ancestor) const;
};

class Aggregator : public common::TraceVisitor {
 public:
  explicit Aggregator(std::string path = {});

  void on_header(const common::Header& h) override;
  void on_processes(std::span<const common::ProcessInfo> procs) override;
  void on_cap_checks(std::span<const common::CapCheck> events) override;
  void on_forks(std::span<const common::ForkEvent> events) override;
  void on_execs(std::span<const common::ExecEvent> events) override;
  void on_exits(std::span<const common::ExitEvent> events) override;
  void on_outcomes(std::span<const common::SyscallOutcome> events) override;
  void on_capsets(std::span<const common::CapsetEvent> events) override;
  void on_operations(std::span<const common::OperationFact> events) override;
  void on_stacks(std::span<const common::KernelStack> stacks) override;
  void on_user_stacks(std::span<const common::UserStack> stacks) override;
  void on_trailer(const common::Trailer& t) override;
  void on_outcome_windows(std::span<const common::OutcomeWindow> windows) override;

  // Hands over the aggregate.
  RunAggregate finish(const common::ReadResult& result);

 private:
  // Checks, outcomes, capsets and operations are attributed to the process
  // image current at their time. The reader delivers a batch's forks and execs
  // before its other events (trace_io.h), and batches are in time order, so
  // every image an event can belong to is known when the event arrives.
  size_t image_for(uint32_t pid, uint64_t time_ns);
  size_t new_image(uint32_t pid, uint64_t begin_ns);
  // A batch's forks arrive before its execs (trace_io.h), but a child is a
  // copy of the image its parent ran at the fork: an exec of the parent in
  // the same batch may come first in time. Forks wait here until the batch's
  // execs are known, then both are applied in time order.
  void apply_fork(const common::ForkEvent& e);
  void apply_exec(const common::ExecEvent& e);
  void settle_forks();
  std::vector<common::ForkEvent> pending_forks_;
  void move_exec_checks();
  // Returns the shape the check was counted in (nullptr: beyond the bound).
  // UNTRACKED: a denied check whose outcome the recorder was not tracking,
  // known at once (in_windows); such checks form shapes of their own.
  CheckAgg* add_check(ProcessAgg& p, const common::CapCheck& e, bool untracked = false);
  // in_windows: whether TIME lies inside an outcome window delivered so far
  // (a window's records precede every check made inside or after it).
  bool in_outcome_window(uint64_t time_ns) const;
  void note_early_denial(ProcessAgg& p, const CheckAgg& shape, uint64_t time_ns);
  void apply_capset(ProcessAgg& p, const common::CapsetEvent& e);
  void count_untracked_outcomes();

  RunAggregate run_;
  std::unordered_map<uint32_t, std::vector<size_t>> images_by_pid_;  // sorted by begin_ns
  // Lookup cache: the image of the last pid and the time range it covers.
  uint32_t cache_pid_ = 0;
  size_t cache_image_ = SIZE_MAX;
  uint64_t cache_begin_ = 0, cache_end_ = 0;
  // Earliest outcome seen so far: under OutcomeTracking::from_first_denial it
  // proves that tracking had begun by then.
  uint64_t first_outcome_ns_ = UINT64_MAX;
  // from_first_denial only, until the trailer gives the window start: the
  // times of denied checks no recorded outcome yet proves tracked, per
  // (image, shape) — bounded, the rest summarised by count and time range.
  // Kept beside the shapes so that the common case costs them nothing.
  struct EarlyDenials {
    std::vector<uint64_t> times;
    uint64_t overflow = 0, overflow_first_ns = UINT64_MAX;
  };
  std::unordered_map<uint64_t, EarlyDenials> early_denials_;  // key: image << 32 | shape
};

// Container engines, runtimes and their helpers, from
// analyze/data/runtime_programs.conf (the file says what each kind means).
struct RuntimePrograms {
  std::vector<std::string> names;     // base names
  std::vector<std::string> dirs;      // path prefixes
  std::vector<std::string> contains;  // path substrings
};
struct RuntimeProgramsParse {
  RuntimePrograms programs;
  struct Error {
    int line = 0;
    std::string message;
  };
  std::vector<Error> errors;
};
RuntimeProgramsParse parse_runtime_programs(std::string_view text);
const RuntimePrograms& builtin_runtime_programs();

// Container engines and runtimes by their executable (or argv[0] when the
// executable has no usable path: runc 1.1 re-executes itself from a memfd).
bool is_runtime_exe(const std::string& exe, const std::vector<std::string>& argv, const RuntimePrograms& programs);
bool is_runtime_exe(const std::string& exe, const std::vector<std::string>& argv);

// The image a snapshot entry or an exec shows: its program, its ids and
// sets, whether it is a container runtime's (is_runtime_exe, or RUNTIME:
// forked from a runtime's image).
ImageState image_state(const std::string& exe, const std::vector<std::string>& argv, const std::string& cgroup,
                       const common::CredIds& ids, const common::CapSets& caps,
                       const std::optional<common::FileCaps>& file_caps, bool runtime = false);

// Classifies a denied-check syscall's return value into the assessment.
void tally_outcome(DenialAssessment& a, int64_t ret);

// Reads one trace file into an aggregate (the only I/O of the load stage; load.cpp).
RunAggregate load_trace(const std::string& path);

// The files of one run: a single trace, or the pieces of a split recording
// (Header::split_run_id) in piece order.
struct RunFiles {
  std::vector<std::string> paths;
  std::string run_id;            // empty: not split
  std::vector<uint32_t> pieces;  // piece number of each path
};
// Groups FILES by run: pieces of one split recording (read from their
// headers) become one RunFiles, in piece order, at the place of the first;
// every other file is a run of its own. A piece given twice is kept once.
std::vector<RunFiles> group_runs(const std::vector<std::string>& files);

// Reads the files of one run into one aggregate: a split recording's pieces
// in order, as if they were one trace. A missing piece (a gap, a first
// piece after 1, a last one whose trailer says the recording continued)
// makes the run incomplete (RunAggregate::split_problems).
RunAggregate load_run(const RunFiles& run);

}  // namespace capaudit::analyze
