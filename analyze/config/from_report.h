// The bridge from the analyzer's findings (analyze/core/findings.h) to the
// generators' input and to diff's per-capability view.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <string>
#include <vector>

#include "analyze/config/check.h"
#include "analyze/config/configs.h"
#include "analyze/core/classify.h"
#include "analyze/core/findings.h"

namespace capaudit::analyze {

class RuntimeConfigs;

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

// "systemd,docker" (comma or space separated), "all" -> formats in the
// order given; an error text naming the unknown one.
std::variant<std::vector<ConfigFormat>, std::string> parse_config_list(std::string_view list);
// What the text report and the front command show without --config.
const std::vector<ConfigFormat>& default_report_formats();

// One format, preceded by `warning` as comment lines of that format.
std::string render_config_with_warning(ConfigFormat format, const ConfigInput& input, const std::string& warning);

// The chosen formats, each under a "--- name ---" line. `warning` (when not
// empty) opens every format as a comment block: the run the configs come
// from did not work. When formats are left out, a last line
// says how to get them (`how_to_get_more` is the option to name).
std::string render_configs(const ConfigInput& input, const std::vector<ConfigFormat>& formats,
                           const std::string& warning = {}, const std::string& how_to_get_more = "--config");

// The text report's appendix (TextOptions::appendix): a heading, then render_configs.
std::string render_report_configs(const Report& report, const std::vector<ConfigFormat>& formats,
                                  const std::string& warning = {}, const std::optional<RunAs>& run_as = std::nullopt);
// The same, each format evaluated as RuntimeConfigs says.
std::string render_report_configs(RuntimeConfigs& configs, const std::vector<ConfigFormat>& formats,
                                  const std::string& warning = {});

// The profile a format is evaluated under when the user gives none: the
// container formats under their runtime's defaults (docker, compose and
// kubernetes: "docker"; podman: "podman"), the host formats (systemd,
// setcap, filecap, c, python) under the recorded host: "".
std::string default_profile_for(ConfigFormat format);

// The configs of each format evaluated under its runtime's profile. With an
// explicit profile (the user's --profile/--sysctl/... options, already in
// `base.overlay` and `base.profile_name`) every format uses that one.
// Each distinct profile classifies the runs once.
class RuntimeConfigs {
 public:
  RuntimeConfigs(const std::vector<RunAggregate>& runs, ClassifyOptions base, bool explicit_profile,
                 std::optional<RunAs> run_as = std::nullopt, std::string name = {});
  ConfigInput input(ConfigFormat format);
  // The report a format's config comes from.
  const Report& report(ConfigFormat format);

 private:
  const std::vector<RunAggregate>& runs_;
  ClassifyOptions base_;
  bool explicit_;
  std::optional<RunAs> run_as_;
  std::string name_;
  std::map<std::string, Report> reports_;  // by profile name
};

// render_configs with an input per format.
std::string render_configs(const std::function<ConfigInput(ConfigFormat)>& input_for,
                           const std::vector<ConfigFormat>& formats, const std::string& warning = {},
                           const std::string& how_to_get_more = "--config");

// The merged per-capability conclusions, as diff compares them.
std::vector<CapStatus> cap_statuses(const Report& report);

}  // namespace capaudit::analyze
