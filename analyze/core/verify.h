// Verification: is a recommended capability set proven, not just observed?
// `capaudit verify` re-runs the command the way the recommendation deploys
// it (the deployment user, exactly the recommended set), records that run,
// and this stage judges it against the original recording; with --minimize
// it also judges one run per capability left out.
//
// Pure: facts from aggregates (analyze/core/aggregate.h) in, typed facts
// out; the words are made in render_verify_text() only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyze/core/aggregate.h"
#include "analyze/core/findings.h"
#include "common/trace_io.h"

namespace capaudit::analyze {

// An operation: a capability the program used in one syscall (a granted
// check of its own credentials, outside a container runtime's work).
struct VerifyOperation {
  int cap = 0;
  int32_t syscall_nr = -1;
  std::string syscall;     // "bind"
  std::string executable;  // the first one seen doing it (for the reader); "" when the trace does not name it
  uint64_t count = 0;
  bool operator<(const VerifyOperation& o) const { return std::tie(cap, syscall_nr) < std::tie(o.cap, o.syscall_nr); }
};

// A denied check whose syscall then failed: an operation the program lost.
struct DeniedFailure {
  int cap = 0;
  int32_t syscall_nr = -1;
  std::string syscall;
  std::string executable;  // "" when the trace does not name it
  uint64_t failed = 0;          // syscalls that failed after the denial
  std::vector<int64_t> errors;  // their return values (-13: EACCES), when the trace has them
};

// What one recorded run shows, as far as verification cares.
struct RunFacts {
  std::string path;
  bool complete = true;
  std::vector<std::string> incomplete_reasons;
  bool command_mode = false;           // the trailer has the command's exit status
  std::optional<int32_t> exit_status;  // raw wait status
  bool started = true;                 // some process of the command ran
  std::string stop_reason;
  std::vector<VerifyOperation> operations;  // sorted by (cap, syscall)
  std::vector<DeniedFailure> failures;
  // Denied checks per capability and how their syscalls ended.
  std::map<int, DenialAssessment> denials;
  std::string kernel_release, hostname, boot_id;
  std::set<uint32_t> euids;  // the program's processes' effective uids (after exec)
  int64_t realtime_ns = 0;   // when the recording started (wall clock), 0 unknown
  // Union of the permitted sets the program's images had right after exec
  // (what the deployment actually gave it); nullopt when no exec recorded them.
  std::optional<CapMask> permitted_after_exec;
  // Granted checks left out of `operations`: the noise catalogue's (the
  // overcommit heuristic's CAP_SYS_ADMIN), which the kernel makes only sometimes.
  uint64_t advisory_checks = 0;
};

// Facts of one trace; INCOMPLETE: why it is incomplete (analyze/core/completeness.h).
// A failure's errnos are its syscall's (OutcomeAgg::errors).
RunFacts run_facts(const RunAggregate& run, const std::vector<std::string>& incomplete);

enum class VerifyProblemKind : uint8_t {
  not_started,        // the command did not start in the re-run
  exit_status,        // the re-run ended differently from the original
  denied_failure,     // a denied check whose syscall then failed
  operation_missing,  // an operation of the original run the re-run did not perform
  no_exit_status,     // the re-run's trace does not say how the command ended
  more_than_granted,  // the program had capabilities beyond the set: the re-run proves nothing about the set
};
const char* to_string(VerifyProblemKind k);

struct VerifyProblem {
  VerifyProblemKind kind = VerifyProblemKind::denied_failure;
  DeniedFailure failure;                 // denied_failure
  VerifyOperation operation;             // operation_missing
  std::vector<int32_t> expected_status;  // exit_status: the original run(s)' raw wait statuses
  std::optional<int32_t> status;         // exit_status: the re-run's
  std::string detail;                    // not_started: the recorder's stop reason
  CapMask extra = 0;                     // more_than_granted: what it had beyond the set
};

struct RunJudgement {
  std::string label;  // "CAP_A,CAP_B" granted / "without CAP_X"
  CapMask granted = 0;
  RunFacts facts;
  std::vector<VerifyProblem> problems;
  bool broke() const { return !problems.empty(); }
};

// --minimize: what leaving one capability out did.
struct CapEvidence {
  int cap = 0;
  std::string name;
  RunJudgement without;  // the run without it
  // Shown to be needed: the run without it broke observably (a denied check
  // that failed, another exit status, an operation not performed).
  bool shown_needed() const { return without.broke(); }
};

struct VerifyResult {
  CapMask granted = 0;      // the set the re-run had (the recommendation, or --caps)
  CapMask recommended = 0;  // what the original traces recommend
  std::string account;      // "root" / "uid 65534 (gid 65534)"
  std::string runtime;      // "host", "podman", "systemd"
  std::vector<RunFacts> originals;
  std::vector<VerifyOperation> operations;  // what the re-run must cover
  RunJudgement rerun;
  std::vector<CapEvidence> minimize;  // empty without --minimize
  std::string command_line;           // the verify command that ran the re-runs ("" unknown)
  bool complete = true;               // every input complete
  bool original_failed = false;       // the original run itself failed: nothing to prove
  // The verdict: the set works (and, with --minimize, every capability in it
  // was shown to be needed).
  bool passed() const;
};

// The operations the re-run must cover: the original runs' operations of
// the capabilities in `granted`.
std::vector<VerifyOperation> operations_to_cover(const std::vector<RunFacts>& originals, CapMask granted);

// Judges one re-run against the original runs and the operations to cover.
RunJudgement judge_run(std::string label, CapMask granted, RunFacts rerun, const std::vector<RunFacts>& originals,
                       const std::vector<VerifyOperation>& operations);

// The text the command prints: the verdict first, then the evidence.
std::string render_verify_text(const VerifyResult& r);

// The result as JSON (docs/verify.md, "Result file"): what `report --verified` reads.
std::string render_verify_json(const VerifyResult& r);

// "EACCES" for -13, "error 999" for an unknown value, "succeeded" for >= 0.
std::string errno_text(int64_t ret);

}  // namespace capaudit::analyze
