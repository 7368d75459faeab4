#include "analyze/config/from_report.h"

#include "analyze/core/profile.h"
#include "analyze/core/quote.h"
#include "analyze/core/render.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace capaudit::analyze {

namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ConfigInput config_input_from_report(const Report& report, const std::optional<RunAs>& run_as,
                                     const std::string& name) {
  ConfigInput in;
  bool any_root = false;
  std::map<uint32_t, size_t> non_root_euids;  // euid -> how many executables ran with it
  for (const auto& e : report.executables) {
    if (e.runtime) continue;  // the runtime's own work: never configured for the program
    ExecutableNeeds needs;
    needs.path = e.path;
    needs.unknown_pids = e.unknown_pids;
    needs.caps = e.recommended;
    needs.startup_only = e.startup_only & e.recommended;
    if (e.file_caps_permitted) {
      common::FileCaps fc;
      fc.permitted = *e.file_caps_permitted;
      fc.inheritable = e.file_caps_inheritable.value_or(0);
      fc.effective = e.file_caps_effective;
      needs.declared_file_caps = fc;
    }
    needs.exec_gain = e.exec_privilege_gain;
    in.executables.push_back(std::move(needs));
    // A set-user-ID binary's euid is the file owner's, not the account that
    // runs the program: that one is the real uid.
    for (uint32_t id : e.exec_privilege_gain ? e.uids : e.euids) {
      if (id == 0) any_root = true;
      else ++non_root_euids[id];
    }
  }
  if (run_as) {
    in.uid = run_as->uid;
    in.gid = run_as->gid;
    in.user = run_as->name;
  } else if (!any_root && !non_root_euids.empty()) {
    const auto most = std::max_element(non_root_euids.begin(), non_root_euids.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    in.uid = in.gid = most->first;
  }
  // The main executable names the snippets: the first one that needs anything.
  in.name = name;
  if (in.name.empty()) {
    for (const auto& e : in.executables) {
      if (e.caps != 0 && !e.path.empty()) {
        in.name = base_name(e.path);
        break;
      }
    }
  }
  for (size_t i = 0; in.name.empty() && i < in.executables.size(); ++i) in.name = base_name(in.executables[i].path);
  if (in.name.empty()) in.name = "app";
  return in;
}

std::variant<std::vector<ConfigFormat>, std::string> parse_config_list(std::string_view list) {
  std::string text(list);
  std::replace(text.begin(), text.end(), ',', ' ');
  std::istringstream in(text);
  std::vector<ConfigFormat> out;
  for (std::string word; in >> word;) {
    if (word == "all") {
      for (ConfigFormat f : all_config_formats())
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
      continue;
    }
    auto f = parse_config_format(word);
    if (!f) return "unknown config format '" + word + "'";
    if (std::find(out.begin(), out.end(), *f) == out.end()) out.push_back(*f);
  }
  if (out.empty()) return std::string("no config format given");
  return out;
}

const std::vector<ConfigFormat>& default_report_formats() {
  static const std::vector<ConfigFormat> kDefault{ConfigFormat::systemd, ConfigFormat::docker};
  return kDefault;
}

std::string render_config_with_warning(ConfigFormat format, const ConfigInput& input, const std::string& warning) {
  std::string out;
  std::istringstream lines(warning);
  const char* comment = format == ConfigFormat::c ? "// " : "# ";
  for (std::string line; std::getline(lines, line);) out += comment + std::string("WARNING: ") + line + "\n";
  return out + render_config(format, input);
}

namespace {

// One format's section of a multi-format listing.
std::string config_section(ConfigFormat f, const ConfigInput& input, const std::string& warning) {
  return "--- " + std::string(config_format_name(f)) + " ---\n" + render_config_with_warning(f, input, warning);
}

// The line naming the formats not shown, and how to get them ("" when all are).
std::string more_formats_line(const std::vector<ConfigFormat>& shown, const std::string& how_to_get_more) {
  std::string rest;
  for (ConfigFormat f : all_config_formats())
    if (std::find(shown.begin(), shown.end(), f) == shown.end())
      rest += (rest.empty() ? "" : ",") + std::string(config_format_name(f));
  return rest.empty() ? "" : "\nMore formats: " + how_to_get_more + " " + rest + " (or all)\n";
}

}  // namespace

std::string render_configs(const ConfigInput& input, const std::vector<ConfigFormat>& formats,
                           const std::string& warning, const std::string& how_to_get_more) {
  std::string out;
  for (ConfigFormat f : formats) out += (out.empty() ? "" : "\n") + config_section(f, input, warning);
  return out + more_formats_line(formats, how_to_get_more);
}

std::string render_report_configs(const Report& report, const std::vector<ConfigFormat>& formats,
                                  const std::string& warning, const std::optional<RunAs>& run_as) {
  return "Recommended configurations\n==========================\n" +
         render_configs(config_input_from_report(report, run_as), formats, warning);
}

std::string default_profile_for(ConfigFormat format) {
  switch (format) {
    case ConfigFormat::docker:
    case ConfigFormat::compose:
    case ConfigFormat::kubernetes: return "docker";
    case ConfigFormat::podman: return "podman";
    default: return "";
  }
}

namespace {

// The comment line that says which profile a format was evaluated under.
std::string evaluated_under(ConfigFormat format, const std::string& profile, bool explicit_profile) {
  if (explicit_profile) return "the profile given on the command line (" + comment_text(profile) + ")";
  if (format == ConfigFormat::kubernetes)
    return "the docker profile: this assumes containerd >= 2.0 on the node (its CRI\n"
           "plugin sets ip_unprivileged_port_start=0 and ping_group_range=0 2147483647 like\n"
           "Docker); for another engine pass --profile podman, --profile host or its sysctls";
  if (profile == "docker")
    return "the docker profile (Docker >= 20.10 sets ip_unprivileged_port_start=0 and\n"
           "ping_group_range=0 2147483647 in every container); --profile host uses the recorded host's values";
  if (profile == "podman")
    return "the podman profile (ip_unprivileged_port_start stays 1024, ping_group_range=0 0 from\n"
           "containers.conf); --profile host uses the recorded host's values";
  return "";
}

}  // namespace

RuntimeConfigs::RuntimeConfigs(const std::vector<RunAggregate>& runs, ClassifyOptions base, bool explicit_profile,
                               std::optional<RunAs> run_as, std::string name)
    : runs_(runs), base_(std::move(base)), explicit_(explicit_profile), run_as_(std::move(run_as)), name_(std::move(name)) {}

const Report& RuntimeConfigs::report(ConfigFormat format) {
  const std::string profile = explicit_ ? base_.profile_name : default_profile_for(format);
  auto it = reports_.find(profile);
  if (it != reports_.end()) return it->second;
  ClassifyOptions opts = base_;
  if (!explicit_ && !profile.empty()) {
    auto p = named_profile(profile);
    // Shipped with the tool and parsed by its tests: an error is a build defect.
    if (!p || !p->errors.empty()) throw std::logic_error("built-in profile " + profile + " does not parse");
    opts.overlay = p->profile;
    opts.profile_name = profile;
  }
  return reports_.emplace(profile, classify(runs_, opts)).first->second;
}

ConfigInput RuntimeConfigs::input(ConfigFormat format) {
  ConfigInput in = config_input_from_report(report(format), run_as_, name_);
  const std::string profile = explicit_ ? base_.profile_name : default_profile_for(format);
  in.evaluated_under = evaluated_under(format, profile, explicit_);
  return in;
}

std::string render_configs(const std::function<ConfigInput(ConfigFormat)>& input_for,
                           const std::vector<ConfigFormat>& formats, const std::string& warning,
                           const std::string& how_to_get_more) {
  // Each format evaluated on its own input (its runtime's profile).
  std::string out;
  for (ConfigFormat f : formats) out += (out.empty() ? "" : "\n") + config_section(f, input_for(f), warning);
  return out + more_formats_line(formats, how_to_get_more);
}

std::string render_report_configs(RuntimeConfigs& configs, const std::vector<ConfigFormat>& formats,
                                  const std::string& warning) {
  return "Recommended configurations\n==========================\n" +
         render_configs([&](ConfigFormat f) { return configs.input(f); }, formats, warning);
}

std::vector<CapStatus> cap_statuses(const Report& report) {
  std::vector<CapStatus> out;
  for (const auto& f : report.caps) {
    out.push_back({f.cap, to_string(f.category), f.recommended, reason_text(f)});
  }
  return out;
}

}  // namespace capaudit::analyze
