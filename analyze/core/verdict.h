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
  std::string run;     // run id ("run1"); "" when merged over runs (denials)
  std::string detail;  // "exit status 1", "CAP_NET_BIND_SERVICE: bind failed x1", ...
  int cap = -1;        // denied_failure: the capability
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
  std::string path;   // "" when the trace does not name the program
  std::string label;  // display_name(): the path, or the words for an unnamed program
  std::vector<GrantLine> caps;  // what to grant this executable (its recommended set)
};

struct Verdict {
  CapMask grant = 0;                     // union over executables
  std::vector<ExecutableGrant> executables;  // only those that need something
  std::vector<RunProblem> problems;
  bool run_failed = false;   // a problem that makes the configs unfit (see RunProblem::run_failed)
  bool complete = true;      // every run complete
  // Facts for the trust line: each run's end, "exited 0", "attached (no command)".
  std::vector<std::string> run_ends;
  uint64_t denials_succeeded_anyway = 0;  // denied checks whose syscall succeeded: harmless
  uint64_t denials_unknown = 0;           // denied checks with no known outcome
};

Verdict make_verdict(const Report& r);

// One phrase: what the capability lets a program do ("bind ports below 1024").
std::string cap_purpose(int cap);

// The opening lines of the text report.
std::string render_verdict_text(const Verdict& v);

// "" for a run that worked; otherwise one line per reason, for the configs
// to carry (as comments) and for stderr.
std::string verdict_warning(const Verdict& v);

}  // namespace capaudit::analyze
