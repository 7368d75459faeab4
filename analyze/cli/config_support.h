// Shared by the config, check and diff sub-commands: traces -> Report, and
// the --user option.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyze/config/from_report.h"
#include "analyze/core/findings.h"

namespace capaudit::analyze::cli {

struct AnalyzedRuns {
  Report report;
  int exit_code = 0;  // kExitOk, or kExitIncomplete when an input was damaged or lost data
  std::vector<std::string> incomplete;  // "FILE: why", one per reason (analyze/core/completeness.h)
};

// Loads and classifies traces against their recorded profile. Unreadable
// inputs throw common::Error; damaged ones are reported on stderr.
AnalyzedRuns analyze_traces(const std::vector<std::string>& files);

// "www-data", "65534" or "65534:65534" -> the deployment account.
RunAs parse_run_as(const std::string& spec);

}  // namespace capaudit::analyze::cli
