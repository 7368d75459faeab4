// The verdict: the answer a report opens with. Which capabilities to grant
// to which executable, what each is for, and whether the run they come from
// can be trusted: did the recording complete, did the command start and
// succeed, was it denied an operation it needed. A run that did not work
// never yields a confident answer (DESIGN.md section 5).
#pragma once

#include <string>
#include <vector>

#include "analyze/core/findings.h"

namespace capaudit::analyze {

enum class RunProblemKind : uint8_t {
  not_started,     // the command never ran (no such file, not executable, ...)
  exited_nonzero,  // the command exited with a non-zero status
  killed,          // the command was killed by a signal
  denied_failure,  // a denied check whose syscall failed: an operation the program wanted was refused
  recorder_error,  // the recording ended with an error
  incomplete,      // the trace lost data or was damaged: the set may be too small
};
const char* to_string(RunProblemKind k);

struct RunProblem {
  RunProblemKind kind = RunProblemKind::incomplete;
  std::string run;     // run id ("run1"); "" with one run, or when merged over runs (denials)
  int cap = -1;        // denied_failure: the capability
  // The facts run_problem_text() words, by kind:
  std::string stop_reason;                      // not_started, recorder_error: as the recorder wrote it
  int32_t wait_status = 0;                      // exited_nonzero, killed: the command's raw wait status
  std::vector<std::string> incomplete_reasons;  // incomplete: RunInfo::incomplete_reasons
  std::vector<std::string> syscalls;            // denied_failure: the failed syscalls, most denied first (at most 3)
  uint64_t failed = 0;                          // denied_failure: how many failed
  // Whether this makes the run a failure (everything but incomplete, which
  // has its own exit code and only means "maybe more").
  bool run_failed() const { return kind != RunProblemKind::incomplete; }
};

struct GrantLine {
  int cap = 0;
  std::string name;     // CAP_CHOWN
  std::string purpose;  // "change file owners"
  std::vector<std::string> syscalls;  // where it was used, most used first (at most 3)
  bool conditional = false;           // needed because of a sysctl/rlimit value
  std::string rule;                   // the rule when conditional
  bool startup_only = false;
};

struct ExecutableGrant {
  std::string path;                    // "" when the trace does not name the program
  std::vector<uint32_t> unknown_pids;  // its processes when it has no path (ExecutableFindings::unknown_pids)
  std::vector<GrantLine> caps;         // what to grant this executable (its recommended set)
};

// How one run ended, for the trust line.
enum class RunEndKind : uint8_t {
  not_started,  // the command never ran
  exited_zero,  // the command exited 0
  failed,       // the command exited non-zero or was killed (wait_status)
  stopped,      // no command of ours (-p, --cgroup): the recording's stop reason
};
struct RunEnd {
  RunEndKind kind = RunEndKind::stopped;
  std::string run;          // run id; "" with one run
  int32_t wait_status = 0;  // failed
  std::string stop_reason;  // stopped
};

struct Verdict {
  CapMask grant = 0;                     // union over executables
  std::vector<ExecutableGrant> executables;  // only those that need something
  std::vector<RunProblem> problems;
  bool run_failed = false;   // a problem that makes the configs unfit (see RunProblem::run_failed)
  bool complete = true;      // every run complete
  std::vector<RunEnd> run_ends;  // facts for the trust line

  uint64_t denials_succeeded_anyway = 0;  // denied checks whose syscall succeeded: harmless
  uint64_t denials_unknown = 0;           // denied checks with no known outcome
};

Verdict make_verdict(const Report& r);

// One phrase: what the capability lets a program do ("bind ports below 1024").
std::string cap_purpose(int cap);

// The words of the verdict's facts (words.cpp): "the command exited with
// status 1", "CAP_NET_RAW denied: bind failed (EPERM/EACCES) x2", ... (a
// problem's run id not included); "run2: the command exited 0".
std::string run_problem_text(const RunProblem& p);
std::string run_end_text(const RunEnd& e);

// The opening lines of the text report.
std::string render_verdict_text(const Verdict& v);

// "" for a run that worked; otherwise one line per reason, for the configs
// to carry (as comments) and for stderr.
std::string verdict_warning(const Verdict& v);

}  // namespace capaudit::analyze
