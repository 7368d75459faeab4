// Shared by the config, check and diff sub-commands: traces -> Report, and
// the --user option.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyze/cli/options.h"
#include "analyze/config/from_report.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/findings.h"
#include "analyze/core/profile.h"

namespace capaudit::analyze::cli {

// The re-evaluation options report, config and check share: --profile,
// --profile-from, --sysctl-profile, --sysctl (later options win).
po::options_description profile_options();

struct ProfileChoice {
  Profile overlay;
  std::string name;          // "docker", "docker+custom", ... ("" when none given)
  bool given() const { return !name.empty(); }
};
// Reads the options above; a bad value throws common::Error (2 for a bad
// --sysctl or an unknown profile name, 1 for a bad file).
ProfileChoice read_profile_options(const po::variables_map& vm);

struct AnalyzedRuns {
  std::vector<RunAggregate> runs;  // as loaded, to re-classify under another profile
  ClassifyOptions options;         // what `report` was classified with
  Report report;
  int exit_code = 0;  // kExitOk, or kExitIncomplete when an input was damaged or lost data
  std::vector<std::string> incomplete;  // "FILE: why", one per reason (analyze/core/completeness.h)
};

// Loads and classifies traces against their recorded profile with the
// profile's overlay on top. Unreadable inputs throw common::Error; damaged
// ones are reported on stderr.
AnalyzedRuns analyze_traces(const std::vector<std::string>& files, const ProfileChoice& profile = {});

// "www-data", "65534" or "65534:65534" -> the deployment account.
RunAs parse_run_as(const std::string& spec);

}  // namespace capaudit::analyze::cli
