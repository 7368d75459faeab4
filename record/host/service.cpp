#include "record/host/service.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "common/error.h"

namespace capaudit::record {

namespace {

std::optional<uint32_t> resolve_group(const common::UnitId& id, const IdLookup& ids) {
  if (id.numeric) return id.numeric;
  return ids.group_by_name(id.text);
}

void add_group(std::vector<uint32_t>& groups, uint32_t gid) {
  if (std::find(groups.begin(), groups.end(), gid) == groups.end()) groups.push_back(gid);
}

bool process_uses_id(uint32_t id) {
  DIR* d = opendir("/proc");
  if (!d) return false;
  bool used = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    struct stat st{};
    const std::string path = std::string("/proc/") + e->d_name;
    if (stat(path.c_str(), &st) == 0 && (st.st_uid == id || st.st_gid == id)) {
      used = true;
      break;
    }
  }
  closedir(d);
  return used;
}

}  // namespace

IdLookup IdLookup::system() {
  IdLookup ids;
  ids.user_by_name = [](const std::string& name) -> std::optional<User> {
    std::vector<char> buf(16384);
    passwd pw{}, *found = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
    return User{found->pw_uid, found->pw_gid, found->pw_name};
  };
  ids.user_name_by_uid = [](uint32_t uid) -> std::optional<std::string> {
    std::vector<char> buf(16384);
    passwd pw{}, *found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
    return std::string(found->pw_name);
  };
  ids.group_by_name = [](const std::string& name) -> std::optional<uint32_t> {
    std::vector<char> buf(16384);
    group gr{}, *found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
    return found->gr_gid;
  };
  ids.user_groups = [](const std::string& name, uint32_t gid) {
    int count = 32;
    std::vector<gid_t> groups(count);
    while (getgrouplist(name.c_str(), gid, groups.data(), &count) < 0) groups.resize(count);
    groups.resize(count);
    return std::vector<uint32_t>(groups.begin(), groups.end());
  };
  ids.id_in_use = [](uint32_t id) {
    std::vector<char> buf(16384);
    passwd pw{}, *pfound = nullptr;
    group gr{}, *gfound = nullptr;
    if (getpwuid_r(id, &pw, buf.data(), buf.size(), &pfound) == 0 && pfound) return true;
    if (getgrgid_r(id, &gr, buf.data(), buf.size(), &gfound) == 0 && gfound) return true;
    return process_uses_id(id);
  };
  return ids;
}

uint64_t ServicePlan::expected_caps(uint64_t all_caps) const {
  const uint64_t bset = bounding.value_or(all_caps);
  return runs_as_root() ? bset : (ambient & bset);
}

common::Result<ServicePlan> plan_service(const common::ServiceUnit& unit, const std::vector<std::string>& command,
                                         const IdLookup& ids) {
  auto unit_error = [](std::string message) { return common::fail(std::move(message), "", 2); };
  ServicePlan plan;
  bool keep_credentials = false;
  if (!command.empty()) {
    plan.argv = command;
    plan.exec_path = command.front();
  } else {
    if (unit.exec_start.empty()) return unit_error("the unit has no ExecStart= and no command was given after --");
    if (unit.exec_start.size() > 1) {
      return unit_error("the unit has " + std::to_string(unit.exec_start.size()) +
                        " ExecStart= lines (Type=oneshot); give the one to record after --");
    }
    const common::ExecCommand& exec = unit.exec_start.front();
    plan.argv = exec.argv;
    plan.exec_path = exec.path;
    plan.ignore_failure = exec.ignore_failure;
    keep_credentials = exec.keep_credentials;
    if (exec.no_env_expansion) plan.notes.push_back("':' prefix: no environment variables are expanded");
    else plan.notes.push_back("environment variables in ExecStart= are not expanded by capaudit");
  }

  // Credentials. '!' leaves them to the program, which then starts as root.
  if (keep_credentials) {
    plan.notes.push_back("'!' prefix: User=/Group=/SupplementaryGroups= are not applied; the command starts as "
                         "root and is expected to change ids itself");
  } else if (unit.dynamic_user) {
    plan.dynamic_user = true;
    for (uint32_t id = kDynamicUidFirst; id <= kDynamicUidLast; ++id) {
      if (!ids.id_in_use(id)) {
        plan.uid = plan.gid = id;
        break;
      }
    }
    if (!plan.uid) return unit_error("DynamicUser=: no free uid in 61184-65519");
    plan.user_name = unit.user ? unit.user->text : "dynamic user " + std::to_string(*plan.uid);
    plan.notes.push_back("DynamicUser=: running as uid/gid " + std::to_string(*plan.uid));
  } else if (unit.user) {
    if (unit.user->numeric) {
      plan.uid = *unit.user->numeric;
      auto name = ids.user_name_by_uid(*plan.uid);
      plan.user_name = name.value_or(unit.user->text);
      if (name) {
        if (auto u = ids.user_by_name(*name)) plan.gid = u->gid;
      }
    } else {
      auto u = ids.user_by_name(unit.user->text);
      if (!u) return unit_error("User=" + unit.user->text + ": no such user");
      plan.uid = u->uid;
      plan.gid = u->gid;
      plan.user_name = u->name;
    }
  }
  if (!keep_credentials && unit.group) {
    auto g = resolve_group(*unit.group, ids);
    if (!g) return unit_error("Group=" + unit.group->text + ": no such group");
    plan.gid = *g;
  }
  if (plan.uid && !plan.gid) plan.gid = *plan.uid;  // systemd: a uid without passwd entry uses gid = uid
  if (!keep_credentials && plan.uid && *plan.uid != 0 && !plan.dynamic_user && !plan.user_name.empty()) {
    // Like systemd, a named user also gets the groups the group database gives it.
    if (ids.user_by_name(plan.user_name)) {
      for (uint32_t g : ids.user_groups(plan.user_name, *plan.gid)) add_group(plan.groups, g);
    }
  }
  if (!keep_credentials) {
    for (const auto& sg : unit.supplementary_groups) {
      auto g = resolve_group(sg, ids);
      if (!g) return unit_error("SupplementaryGroups=" + sg.text + ": no such group");
      add_group(plan.groups, *g);
    }
    if (!plan.groups.empty() && !plan.uid) plan.gid = plan.gid.value_or(0);
  }
  if (plan.gid && !plan.uid) plan.uid = 0;  // Group= alone: still root, other gid

  plan.bounding = unit.capability_bounding_set;
  plan.ambient = unit.ambient_capabilities & unit.effective_bounding_set();
  if (plan.ambient != unit.ambient_capabilities) {
    plan.notes.push_back("AmbientCapabilities= outside CapabilityBoundingSet= cannot be raised and are ignored");
  }
  // systemd turns no_new_privs on implicitly for DynamicUser= as well.
  plan.no_new_privs = unit.no_new_privileges.value_or(false) || unit.dynamic_user;
  return plan;
}

LaunchOptions launch_options_for(const ServicePlan& plan) {
  LaunchOptions opts;
  opts.argv = plan.argv;
  if (!plan.argv.empty() && plan.exec_path != plan.argv.front()) opts.exec_path = plan.exec_path;
  if (plan.uid) {
    opts.user = UserSpec{plan.user_name.empty() ? std::to_string(*plan.uid) : plan.user_name, *plan.uid,
                         plan.gid.value_or(*plan.uid), plan.groups};
  }
  if (plan.runs_as_root()) {
    if (plan.bounding) opts.caps = *plan.bounding;
  } else if (plan.ambient != 0 || plan.bounding) {
    opts.caps = plan.ambient;
    opts.bounding = plan.bounding.value_or(~uint64_t{0});
  }
  opts.no_new_privs = plan.no_new_privs;
  return opts;
}

common::Result<LaunchOptions> launch_options_for_unit(const std::string& unit_path,
                                                      const std::vector<std::string>& command,
                                                      std::vector<std::string>* notes) {
  auto unit = common::load_service_unit(unit_path);
  if (auto* e = std::get_if<common::UnitError>(&unit)) {
    const std::string where = e->line ? unit_path + ":" + std::to_string(e->line) : unit_path;
    return common::fail(where + ": " + e->message, "fix the unit, or record the command with -- CMD instead", 2);
  }
  const auto& parsed = std::get<common::ServiceUnit>(unit);
  auto plan = plan_service(parsed, command, IdLookup::system());
  if (!plan) return common::fail(unit_path + ": " + plan.error().message, plan.error().hint, plan.error().exit_code);
  const ServicePlan& p = *plan;
  if (notes) {
    notes->insert(notes->end(), parsed.warnings.begin(), parsed.warnings.end());
    notes->insert(notes->end(), p.notes.begin(), p.notes.end());
  }
  return launch_options_for(p);
}

}  // namespace capaudit::record
