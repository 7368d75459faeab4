// The findings model: what the analyzer concluded, as plain values. This is
// the interface between classification and everything downstream (the text/
// JSON/YAML renderers here, the config generators in analyze/config). It holds
// no trace events, only conclusions and the evidence a reader needs to judge
// them, so it stays small however long the recording was.
//
// Versioning: the JSON rendering of this model carries kReportSchemaVersion
// (docs/report-schema.md). Add fields freely; renaming or removing one is a
// major bump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "analyze/core/load_types.h"
#include "common/trace_io.h"

namespace capaudit::analyze {

inline constexpr const char* kReportSchemaVersion = "1.3";

enum class Category : uint8_t {
  required,             // a granted check that gates an operation
  conditional,          // needed because of a sysctl/rlimit value (see RuleHit)
  not_needed,           // checks were seen, but under the target profile the rule says they gate nothing
  advisory,             // checks that gate nothing (overcommit heuristic, exec credential checks, ...)
  denied_only,          // only denied checks; never recommended automatically
  capset_only,          // requested by the program's own capset(), never used
  declared_unobserved,  // in file caps (or a given unit/manifest) but never exercised
};
const char* to_string(Category c);

// Why a check was judged advisory.
enum class NoiseBasis : uint8_t {
  none,
  call_path,  // a catalogued kernel function is on the check's call path (strong)
  opts,       // no call path; the check carried CAP_OPT_NOAUDIT (weaker)
  syscall,    // no call path and no opts; guessed from capability + syscall (weakest)
  // The check used credentials that are not the program's own (another
  // identity's, installed by the kernel with override_creds(): the overlayfs
  // mounter's). A fact from the hook's own argument: the strongest basis.
  credentials,
};
// Strength order for keeping the best basis: 0 is strongest.
int strength(NoiseBasis b);
const char* to_string(NoiseBasis b);

struct SyscallUse {
  int32_t nr = -1;   // -1: not inside a syscall (kernel thread, exec, ...)
  std::string name;  // "bind", "syscall_999", "(none)"
  uint64_t granted = 0;
  uint64_t denied = 0;
};

struct CallPath {
  std::vector<std::string> frames;  // innermost first, offsets stripped
  uint64_t checks = 0;
  std::string noise_entry;          // catalogued function that made it advisory, "" if none
};

// One user-space frame (format 1.6 traces): where the recorder saw it (the
// mapped file, its build ID and the offset in it) and, once symbolized
// (analyze/symbolize, run by the CLI: it reads files), what code it is.
struct UserFrameInfo {
  uint64_t ip = 0;
  std::string object;              // the mapped file as recorded; "" unknown
  std::string build_id;            // lowercase hex; "" unknown
  std::optional<uint64_t> offset;  // offset in `object`; nullopt: only the address is known
  std::string function;            // "" unknown (or not symbolized)
  std::string file;                // source file, debuginfo only
  uint32_t line = 0;
  // debuginfo, symtab, dynsym or none (symbolize::SymbolSource); "" when
  // symbolization was not run (--no-symbolize).
  std::string source;
  std::string problem;  // why less than debuginfo: "build ID mismatch: recorded X, file has Y", ...
  // The return address read at the user stack pointer at syscall entry
  // (UserStack::leaf, format 1.7), judged to be the wrapper's caller: the
  // frame a frame-pointer walk skips, inserted as frame 1, or the walked
  // frame 1 it confirmed (user_frames_of).
  bool from_entry_sp = false;
};

// A distinct user-space call path of a capability's checks.
struct UserCallPath {
  std::string syscall;  // the checks' syscall ("bind"); "(none)" outside a syscall
  std::vector<UserFrameInfo> frames;  // innermost first, as deep as the kernel walked
  uint64_t checks = 0;
  // The program's call site: the first frame in the executable itself (else
  // the first outside the C library and the dynamic loader); -1 when no frame.
  int call_site = -1;
  // The syscall wrapper the call site called (libc's bind): the innermost
  // frame when it is not the call site; -1 when none.
  int wrapper = -1;
  // No frame outside the C library and the loader was walked (a caller
  // without frame pointers): the call site is the wrapper itself.
  bool caller_not_walked = false;
};

// Which program: its path, or (unnamed by the trace) its pids; words:
// executable_name_text(). The analysis keys and lists programs by this
// value, never by its words.
struct ExecutableName {
  std::string path;                    // "" when the trace never said
  std::vector<uint32_t> unknown_pids;  // then: its processes
  bool runtime = false;                // then: a runtime's work before an exec
  bool operator==(const ExecutableName& o) const = default;
};

// The order reports list programs in: as their names read
// (executable_name_text()), so paths come before the words for unnamed
// programs and pids compare as text ("pid 10" before "pid 9"). That is the
// order every list had when the analysis keyed programs by those words; this
// keeps it byte for byte. Two programs whose words are the same (a path that
// reads like the words for an unnamed one) stay apart: the named one first.
bool operator<(const ExecutableName& a, const ExecutableName& b);

// Picks UserCallPath::call_site and wrapper from the frames' files (not from
// symbols: it works unsymbolized). `executables` are the finding's programs;
// only their paths can match a frame's file.
void choose_call_site(UserCallPath& p, const std::vector<ExecutableName>& executables);

// One causal rule evaluated on one operation the trace recorded.
struct RuleHit {
  std::string rule;            // rule id from analyze/data/sysctl_rules.conf
  std::string operation;       // "bind to port 80 (AF_INET, SOCK_STREAM)"
  std::vector<std::string> inputs;  // "net.ipv4.ip_unprivileged_port_start: recorded 1024, target 0"
  // Whether the operation needs the capability: true/false, or nullopt when a
  // value the rule reads is unknown.
  std::optional<bool> needed_recorded;
  std::optional<bool> needed_target;
  bool impossible_target = false;  // the operation fails under the target profile whatever the caps
  bool check_observed = false;     // a check of the capability was recorded in that syscall
  uint64_t count = 0;              // how many times the trace shows this operation
  std::string kernel_fact;         // the kernel behaviour behind the rule
  std::string remedy;              // the alternative to granting the capability
  std::string frame;               // check rules: the kernel function on the call path that decided it
};

// Why checks were judged advisory: the noise decision and its facts.
// render.h's reason_text() says it in words.
struct NoiseCause {
  enum class Kind : uint8_t {
    none,
    catalogue,            // a catalogued kernel function on the call path (its own, or its sampled siblings')
    catalogue_fallback,   // no call path: the catalogue's capability+syscall fallback entry
    noaudit,              // no call path: the check carried CAP_OPT_NOAUDIT
    foreign_credentials,  // checked with credentials that are not the program's own (override_creds())
    capset_setpcap,       // capset()'s CAP_SETPCAP check, which decides nothing for this program
  };
  Kind kind = Kind::none;
  std::string function;         // catalogue: the catalogued kernel function
  std::string meaning;          // catalogue, catalogue_fallback: the entry's own words (analyze/data)
  std::vector<uint32_t> euids;  // foreign_credentials: the euids of the credentials checked
};

// A broad capability granted where a narrower alternative (RuleSet::
// alternatives) was denied in the same syscall: the broad one stood in.
struct StoodIn {
  int narrow = 0, broad = 0;
  int32_t syscall_nr = -1;
  std::string why;  // the alternative's own words (analyze/data/sysctl_rules.conf)
  std::string syscall;  // syscall_nr's name on the trace's architecture
  bool operator<(const StoodIn& o) const {
    return std::tie(narrow, broad, syscall_nr, why) < std::tie(o.narrow, o.broad, o.syscall_nr, o.why);
  }
};

// Which of classification's cases decided a capability's category, with the
// facts it decided on. No words: render.h's reason_text() makes the
// sentence, once, for every output. Facts the finding holds anyway (its
// syscalls, rule hits, denial assessment, declared_by, startup_only,
// noise_basis) are read from the finding.
struct CategoryReason {
  enum class Kind : uint8_t {
    unexplained_grant,   // required: granted checks no sysctl rule or noise entry explains
    narrower_instead,    // required/conditional: denied, but a broader capability stood in (stood_in)
    rule_needed,         // conditional: rule hits explain the checks as needed
    rule_predicted,      // conditional, predicted: a rule predicts the need from an operation without a check
    fallback_only,       // not_needed: granted only as the fallback of a denied narrower capability (stood_in)
    rule_not_needed,     // not_needed: rules say the checked operations do not need it
    denied_only,         // only denied checks that gate something (denied_syscalls, CapFinding::denial)
    noise,               // advisory (noise)
    noise_denied,        // advisory, every check denied (noise)
    capset_requested,    // capset_only: requested by capset() (requested_by)
    capset_kept,         // capset_only: kept at the program's own capability drop (requested_by)
    declared,            // declared_unobserved (CapFinding::declared_by)
  };
  Kind kind = Kind::unexplained_grant;
  // unexplained_grant: a granted raw-socket check in a run whose socket
  // facts come from cgroup hooks, which never see a refused ping socket.
  bool raw_socket_unexplainable = false;
  std::vector<StoodIn> stood_in;
  std::vector<SyscallUse> denied_syscalls;  // denied_only: the denied checks that gate something
  uint64_t advisory_checks = 0;             // denied_only: other checks, judged advisory (noise)
  NoiseCause noise;                         // noise, noise_denied; denied_only when advisory_checks
  std::vector<ExecutableName> requested_by;  // capset_*: the executables, in ExecutableName order
};

// Where a capability was declared: on an executable's file capabilities, or
// by a declaration given to the analysis (ClassifyOptions::declared: a unit,
// a manifest, a list).
struct DeclaredBy {
  std::string source;         // the declaration's source ("unit webd.service"); "" for file capabilities
  ExecutableName executable;  // file capabilities: the executable they are on
  bool operator<(const DeclaredBy& o) const { return std::tie(source, executable) < std::tie(o.source, o.executable); }
  bool operator==(const DeclaredBy& o) const = default;
};

// A capability as seen in one scope: one executable, or merged over all.
inline constexpr size_t kMaxUserPaths = 16;

struct CapFinding {
  int cap = 0;
  std::string name;  // "CAP_NET_BIND_SERVICE"
  Category category = Category::required;
  bool recommended = false;
  // Every granted use of the capability happened before the process's first
  // capability drop: the program could drop it after start-up.
  bool startup_only = false;
  // Conditional only: no check was recorded; the rule predicts the need
  // under the target profile from an operation the trace shows.
  bool predicted = false;
  NoiseBasis noise_basis = NoiseBasis::none;
  CategoryReason reason;  // why this category; reason_text() (render.h) says it in one sentence

  uint64_t granted = 0;
  uint64_t denied = 0;
  std::vector<SyscallUse> syscalls;
  std::vector<CallPath> call_paths;
  // The program's own call paths (traces with user stacks), most checks
  // first, at most kMaxUserPaths; the rest are counted in user_paths_omitted.
  std::vector<UserCallPath> user_paths;
  uint64_t user_paths_omitted = 0;
  std::vector<RuleHit> rules;
  std::optional<DenialAssessment> denial;  // denied checks present
  // Relative to the start of the process that made the check; over all processes.
  std::optional<uint64_t> first_use_ns;
  std::optional<uint64_t> last_use_ns;

  // Coverage: observation, not confidence.
  uint32_t runs_seen = 0;
  uint32_t runs_total = 0;
  std::vector<std::string> runs;         // run ids where a check (or a predicting op) was seen
  std::vector<ExecutableName> executables;  // in ExecutableName order
  // Where the capability is declared, whatever its category (declared_by_text()
  // words them: "the file capabilities of /usr/bin/ping", "webd.service: AmbientCapabilities").
  std::vector<DeclaredBy> declared_by;
};

// Capabilities checked against a user namespace other than the initial one:
// they are real inside that namespace, but grant nothing on the host.
struct NamespaceFinding {
  uint64_t userns_inum = 0;
  std::string run;
  std::vector<CapFinding> caps;
};

// A sysctl/rlimit-sensitive operation the trace recorded (whether or not a
// rule evaluated it): what the program did, e.g. "bind AF_INET port 80".
struct OperationSeen {
  common::OpKind kind = common::OpKind::unknown;  // operation_text() (render.h) describes it
  int64_t args[4] = {0, 0, 0, 0};
  uint64_t count = 0;
  std::optional<int64_t> last_ret;  // syscall return of the last one, when recorded
};

// An exec that changed what the process may do by itself: the binary's
// set-user-ID/set-group-ID bit (euid != uid or egid != gid right after the
// exec) or its file capabilities (a non-root euid with permitted capabilities
// beyond the ambient ones). no_new_privs makes the kernel ignore exactly
// these, so a config must not set it for such a program.
struct ExecPrivilegeGain {
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0;  // right after the exec
  CapMask file_caps_permitted = 0;  // permitted capabilities the file capabilities gave
};

struct ExecutableFindings {
  // As the recorder resolved it. "" when the trace never says which program
  // ran: a process it first saw neither exec nor fork from a known image,
  // with no snapshot naming its executable. unknown_pids then lists them.
  std::string path;
  std::vector<uint32_t> unknown_pids;
  // A container engine/runtime, or a process's work before its exec that
  // the trace did not see start (runc init): recorded, shown apart, never
  // recommended (its caps are never `recommended`, recommended is 0).
  bool runtime = false;
  std::vector<std::string> runs;     // run ids where it ran
  uint64_t processes = 0;
  std::vector<uint32_t> uids;        // real uids it ran with
  std::vector<uint32_t> euids;
  bool ran_as_root = false;          // some process had euid 0
  bool ran_as_non_root = false;
  std::optional<ExecPrivilegeGain> exec_privilege_gain;  // the first such exec seen
  std::optional<CapMask> file_caps_permitted;  // declared by security.capability
  std::optional<CapMask> file_caps_inheritable;
  bool file_caps_effective = false;
  CapMask capset_requested = 0;      // union of capset() permitted+effective masks
  std::vector<OperationSeen> operations;
  std::vector<CapFinding> caps;      // sorted by category then cap
  CapMask recommended = 0;           // required + conditional (target profile)
  CapMask startup_only = 0;          // subset of recommended, droppable after start-up
};

// How people read an executable's name: its path, or words saying that the
// trace does not name it (its pids). Never a path-like placeholder. Made in
// words.cpp, as every sentence is.
std::string executable_name_text(const std::string& path, const std::vector<uint32_t>& unknown_pids,
                                 bool runtime = false);
std::string executable_name_text(const ExecutableName& e);
std::string display_name(const ExecutableFindings& e);

// One container of the recording (processes whose cgroup path names its id):
// what its programs need, classified on their own. The runtime's work is
// never a container's.
struct ContainerFindings {
  std::string id;      // full id from the cgroup path
  std::string name;    // as the engine named it when the recorder attached; "" = unknown
  std::string engine;  // "podman", "docker" or ""
  std::vector<std::string> runs;
  std::vector<ExecutableName> executables;  // its programs with capability checks
  std::vector<CapFinding> caps;
  CapMask recommended = 0;
  CapMask startup_only = 0;
};

// How people read a container's name: its engine's name, else the short id (words.cpp).
std::string display_name(const ContainerFindings& c);

enum class ChangeKind : uint8_t { appeared, vanished, changed_reason };
const char* to_string(ChangeKind k);

// A difference between the recorded profile's conclusion and the target's.
struct Change {
  int cap = 0;
  std::string name;
  std::optional<ExecutableName> executable;  // nullopt: the merged view
  ChangeKind kind = ChangeKind::changed_reason;
  std::optional<Category> before;  // nullopt: no finding under that profile
  std::optional<Category> after;
  // The rule hits whose answer differs between the profiles (needed under
  // one, not the other, or impossible under the target); none: only the
  // category changed. why_text() (render.h) says it in words.
  std::vector<RuleHit> rules;
};

struct RunInfo {
  std::string id;        // "run1", ... in input order
  std::string path;      // trace file
  common::ReadStatus status = common::ReadStatus::complete;  // named by common::to_string
  std::string message;   // reader message (byte offsets of damage)
  bool incomplete = false;
  std::vector<std::string> incomplete_reasons;  // "truncated", "12 ring-buffer drops", ...
  std::string hostname, kernel_release, arch, boot_id;
  common::Hook hook = common::Hook::unknown;
  std::string target;
  bool opts_available = false;
  bool has_stacks = false;
  // Run facts stay enums; outputs name them with common::to_string.
  common::FactsSource facts_source = common::FactsSource::sys_exit;
  // Link facts (format 1.9) were recorded, or why not (the header's words;
  // empty for older traces).
  bool link_facts = false;
  std::string link_facts_reason;
  common::OutcomeTracking outcome_tracking = common::OutcomeTracking::from_start;
  std::optional<uint64_t> outcomes_from_ns;  // from_first_denial (in_windows: the first window): relative to the recording start
  // in_windows (format 1.6): how many outcome windows, and their total length
  // (the time every task on the recording host took the slow syscall path).
  std::optional<uint64_t> outcome_windows;
  std::optional<uint64_t> outcome_windows_ns;
  // Capability drops come from credential changes (format 1.2 recorders:
  // setuid away from root included), not only from capset() calls.
  bool cred_changes = false;
  // The recorder reports every credential change (header flag, format 1.2):
  // then none in the trace means none happened.
  bool cred_tracking = false;
  uint64_t events = 0;
  uint64_t processes = 0;
  uint64_t duration_ns = 0;
  // How the recording ended (trailer): the traced command's raw wait status
  // in command mode (nullopt after -p/--cgroup or without a trailer), and
  // the recorder's stop reason ("target exited", "error: cannot run x: ...").
  std::optional<int32_t> exit_status;
  std::string stop_reason;
};

struct ProfileSetting {
  std::string key;
  std::string recorded;  // "" when the trace does not say (or differs between runs: "a | b")
  std::string target;
};

struct ProfileInfo {
  std::string name;  // "recorded", "docker", "file:/etc/sysctl.conf", "trace:x.cap", "custom"
  std::vector<ProfileSetting> settings;  // only keys the profile sets
};

// A limit of the analysis the reader must know, as facts; note_text()
// (render.h) says it in words.
enum class NoteKind : uint8_t {
  given,                       // words from outside the analysis (the CLI: a deployment file, a verify result)
  runs_counted,                // "seen in k of n runs" is an observation
  no_call_paths,               // some runs have no kernel call paths
  rules_not_evaluable,         // ids: the rules
  startup_from_capset,         // every run: no credential changes recorded
  startup_from_capset_in,      // ids: the runs without credential changes recorded
  outcomes_from_first_denial,  // ids: runs
  outcomes_in_windows,         // ids: runs
  outcomes_off,                // ids: runs
  facts_from_cgroup_hooks,     // ids: runs
  no_net_facts,                // ids: runs
  // ids: runs recorded for prediction (--facts sys_exit) without link facts;
  // text: "run1: why" for each (Header::link_facts_reason)
  no_link_facts,
  other_namespaces,            // checks against non-initial user namespaces
  not_predicted,               // ids: the rule; a prediction a value unknown under the target kept from being made
};

struct Note {
  NoteKind kind = NoteKind::given;
  std::vector<std::string> ids;  // the runs or rules it names
  std::string text;              // given only
  // not_predicted: the capability, the operation (RuleHit::operation), the
  // profile keys unknown under the target, and the rule's own words for it
  // (Rule::unknown; "" = none).
  int cap = -1;
  std::string operation;
  std::vector<std::string> keys;
  bool keys_unknown_when_recorded = false;  // the recording host had no such value either
  std::string why;
  Note() = default;
  Note(NoteKind k, std::vector<std::string> i = {}) : kind(k), ids(std::move(i)) {}
  // Words from outside the analysis.
  Note(std::string given) : text(std::move(given)) {}  // NOLINT(google-explicit-constructor)
  Note(const char* given) : text(given) {}             // NOLINT(google-explicit-constructor)
};

struct Report {
  std::string schema_version = kReportSchemaVersion;
  std::string tool_version;
  std::vector<RunInfo> runs;
  ProfileInfo profile;
  bool complete = true;  // false when any run is truncated/corrupt or lost data

  std::vector<CapFinding> caps;  // merged over all runs and executables (host namespace)
  std::vector<ExecutableFindings> executables;
  std::vector<NamespaceFinding> namespaces;
  std::vector<ContainerFindings> containers;  // by id; empty when no process ran in a container
  std::vector<Change> changes;  // empty when no profile was given

  CapMask recommended = 0;   // union over executables
  CapMask startup_only = 0;  // caps that every executable using them needs only at start-up
  std::vector<Note> notes;  // limits of the analysis the reader must know
};

}  // namespace capaudit::analyze
