// Sub-commands of capaudit-analyze. Each lives in its own cmd_<name>.cpp and
// gets the arguments after its name; it returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "common/trace_io.h"

namespace capaudit::analyze::cli {

// Documented exit codes (README and --help), the same in capaudit,
// capaudit-record and capaudit-analyze where they apply.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;       // bad usage: unknown option, missing argument, bad option value
inline constexpr int kExitIncomplete = 3;  // an input was truncated or corrupt; output covers what was readable
// The answer is "no": check found a missing/excess capability, diff
// --exit-code found a difference, report --exit-code saw a run that failed.
inline constexpr int kExitNegative = 4;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

int cmd_info(const std::vector<std::string>& args);
int cmd_dump(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_config(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_diff(const std::vector<std::string>& args);
int cmd_verify(const std::vector<std::string>& args);

// Exit code for a finished read: complete -> ok, truncated/corrupt -> incomplete, error -> error.
int exit_code_for(const common::ReadResult& r);
// The same, also counting the trailer's losses (analyze/core/completeness.h):
// an error stays 1, any reason makes it 2.
int exit_code_for(const common::ReadResult& r, const std::vector<std::string>& incomplete_reasons);

// Reads one trace through `visitor`, also keeping its trailer, and returns
// the read result with the reasons it is incomplete (empty when complete).
struct CheckedRead {
  common::ReadResult read;
  std::vector<std::string> incomplete;  // analyze::incomplete_reasons()
  int exit_code = 0;
};
CheckedRead read_trace_checked(const std::string& path, common::TraceVisitor& visitor,
                               const common::ReadLimits& limits = {});
// Worst of two exit codes (error > incomplete > ok).
int worst_exit(int a, int b);

// One stderr line about a read that did not complete, naming the file.
void report_read_problem(const std::string& path, const common::ReadResult& r);
// The same for every reason an input is incomplete (read problems and losses).
void report_incomplete(const std::string& path, const CheckedRead& r);

// The line every output starts (configs, check, diff) or ends (dump) with
// when an input was incomplete; without a comment marker. It names no exit
// code: a failed check exits 1 whatever its input.
std::string incomplete_banner(const std::vector<std::string>& reasons);

// Common text for every sub-command's --help.
std::string exit_code_help();

}  // namespace capaudit::analyze::cli
