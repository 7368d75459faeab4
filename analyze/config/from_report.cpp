#include "analyze/config/from_report.h"

#include <algorithm>
#include <map>

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
    in.executables.push_back(std::move(needs));
    any_root = any_root || e.ran_as_root;
    for (uint32_t euid : e.euids) {
      if (euid != 0) ++non_root_euids[euid];
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

std::string render_report_configs(const Report& report, const std::optional<RunAs>& run_as) {
  return "Recommended configurations\n==========================\n" +
         render_all_configs(config_input_from_report(report, run_as));
}

std::vector<CapStatus> cap_statuses(const Report& report) {
  std::vector<CapStatus> out;
  for (const auto& f : report.caps) {
    out.push_back({f.cap, to_string(f.category), f.recommended, f.reason});
  }
  return out;
}

}  // namespace capaudit::analyze
