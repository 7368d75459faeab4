// Merge + classify: pure functions from run aggregates to findings. No
// clocks, environment or files: every rule is testable on traces built in memory.
#pragma once

#include <string>
#include <vector>

#include "analyze/core/aggregate.h"
#include "analyze/core/catalogue.h"
#include "analyze/core/findings.h"
#include "analyze/core/profile.h"
#include "analyze/core/rules.h"

namespace capaudit::analyze {

// Capabilities a deployment grants (a unit, a manifest, a list): reported as
// declared_unobserved when no run exercised them.
struct Declaration {
  CapMask caps = 0;
  std::string source;  // "unit webd.service", "--declared-caps"
};

struct ClassifyOptions {
  // The target profile is each run's recorded snapshot with this overlay on
  // top. Empty overlay and no name: analyze against the recorded profile.
  Profile overlay;
  std::string profile_name;  // "" = the recorded profile
  std::string tool_version;
  std::vector<Declaration> declared;
  const RuleSet* rules = nullptr;          // nullptr = builtin_rules()
  const Catalogue* catalogue = nullptr;    // nullptr = builtin_catalogue()
  // Only the processes of this container (its id, as in its cgroup path:
  // common/container_ids.h); "" = every process. Report::containers is
  // filled only without it.
  std::string container;
};

Report classify(const std::vector<RunAggregate>& runs, const ClassifyOptions& opts = {});

// Exit status the CLI uses: 0 complete analysis, 2 incomplete input.
inline int exit_code_for(const Report& r) { return r.complete ? 0 : 3; }  // cli::kExitIncomplete

}  // namespace capaudit::analyze
