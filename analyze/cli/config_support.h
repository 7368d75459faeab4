// Shared by the report, config, check and diff sub-commands: traces ->
// Report, and the --user option.
#pragma once

#include <functional>
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

// The one way from trace files to findings: groups FILES into runs (the
// pieces of a split recording become one), loads each and classifies them
// together with OPTS. An unreadable input throws common::Error; a damaged
// one is read up to the damage, its run's read status says how, and
// exit_code is kExitIncomplete. ON_LOADED, if given, sees each run as it is
// loaded, before the next is read. With FD_NAME (capaudit verify), an input
// "fd:N" is descriptor N, which the front command opened (root's own file:
// the analysis account never gets its path); it is a run of its own, read
// once, and FD_NAME(i) names it (i: its place among FILES).
AnalyzedRuns analyze_traces(const std::vector<std::string>& files, ClassifyOptions opts,
                            const std::function<void(const RunAggregate&)>& on_loaded = {},
                            const std::function<std::string(size_t)>& fd_name = {});
// The same against the recorded profile with PROFILE's overlay on top.
AnalyzedRuns analyze_traces(const std::vector<std::string>& files, const ProfileChoice& profile = {});

// "www-data", "65534" or "65534:65534" -> the deployment account.
RunAs parse_run_as(const std::string& spec);

}  // namespace capaudit::analyze::cli
