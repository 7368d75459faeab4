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

// Exit code for a finished read: complete -> ok, truncated/corrupt -> incomplete, error -> error.
int exit_code_for(const common::ReadResult& r);
// Worst of two exit codes (error > incomplete > ok).
int worst_exit(int a, int b);

// One stderr line about a read that did not complete, naming the file.
void report_read_problem(const std::string& path, const common::ReadResult& r);

// Common text for every sub-command's --help.
std::string exit_code_help();

}  // namespace capaudit::analyze::cli
