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
    ExecutableNeeds needs;
    needs.path = e.path;
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
      if (e.caps != 0) {
        in.name = base_name(e.path);
        break;
      }
    }
  }
  if (in.name.empty() && !in.executables.empty()) in.name = base_name(in.executables.front().path);
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
