// The bridge from the analyzer's findings (analyze/core/findings.h) to the
// generators' input and to diff's per-capability view.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyze/config/check.h"
#include "analyze/config/configs.h"
#include "analyze/core/findings.h"

namespace capaudit::analyze {

// The account the deployment runs as, when it is not what the trace shows
// (e.g. recorded as root, to be deployed as www-data).
struct RunAs {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string name;
};

// One ExecutableNeeds per executable of the report (recommended and
// startup-only sets, declared file capabilities). The account is `run_as`
// when given, else root if any executable ran as root, else the non-root
// euid the processes ran with (gid = uid: the findings carry no gids).
ConfigInput config_input_from_report(const Report& report, const std::optional<RunAs>& run_as = std::nullopt,
                                     const std::string& name = {});

// Every config format for the text report's appendix (TextOptions::appendix).
std::string render_report_configs(const Report& report, const std::optional<RunAs>& run_as = std::nullopt);

// The merged per-capability conclusions, as diff compares them.
std::vector<CapStatus> cap_statuses(const Report& report);

}  // namespace capaudit::analyze
