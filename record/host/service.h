// Service mode (`capaudit-record --service UNIT [-- ARGS]`): turns a parsed
// systemd unit into what the launcher must do so the command starts the way
// systemd would start it — credentials, capability sets, no_new_privs, the
// ExecStart= prefixes. Everything is decided (and every id validated) before
// anything is forked.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/systemd_unit.h"
#include "record/host/launch.h"

namespace capaudit::record {

// Name and id lookups, injectable so planning is testable without touching
// /etc/passwd. The defaults use NSS (getpwnam_r & co.) and /proc.
struct IdLookup {
  struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string name;
  };
  std::function<std::optional<User>(const std::string& name)> user_by_name;
  std::function<std::optional<std::string>(uint32_t uid)> user_name_by_uid;
  std::function<std::optional<uint32_t>(const std::string& name)> group_by_name;
  // The user's groups from the group database (what initgroups() would set).
  std::function<std::vector<uint32_t>(const std::string& name, uint32_t gid)> user_groups;
  // Whether a uid/gid is in use: a passwd/group entry or a running process.
  std::function<bool(uint32_t id)> id_in_use;

  static IdLookup system();
};

// DynamicUser= allocates from this range, like systemd.
inline constexpr uint32_t kDynamicUidFirst = 61184;
inline constexpr uint32_t kDynamicUidLast = 65519;

struct ServicePlan {
  std::vector<std::string> argv;  // what the command sees
  std::string exec_path;          // what is executed (differs from argv[0] with '@')
  bool ignore_failure = false;    // '-': a failing exit status is not an error

  // Credentials: unset = stays root.
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::string user_name;  // for messages
  std::vector<uint32_t> groups;  // supplementary groups, in order, no duplicates
  bool dynamic_user = false;

  // Capabilities exactly as systemd applies them. bounding: nullopt = left
  // alone. ambient: raised after the uid change (non-root only).
  std::optional<uint64_t> bounding;
  uint64_t ambient = 0;
  bool no_new_privs = false;

  std::vector<std::string> notes;  // what the reader of the trace should know

  bool runs_as_root() const { return !uid || *uid == 0; }
  // The capabilities the command holds right after exec, if it is not
  // setuid and has no file capabilities: root gets the bounding set, any
  // other user its ambient set.
  uint64_t expected_caps(uint64_t all_caps) const;
};

// Builds the plan. `command` replaces ExecStart= when non-empty (the `-- ARGS`
// of the command line). A Failure (exit code 2) says what is wrong with the
// unit: an unknown user, no ExecStart=, several ExecStart= lines, no free
// dynamic uid.
common::Result<ServicePlan> plan_service(const common::ServiceUnit& unit, const std::vector<std::string>& command,
                                         const IdLookup& ids);

// What the launcher does for the plan. Root: the bounding set becomes the
// command's whole capability set (what root gets at exec anyway). Non-root:
// the ambient set, with the bounding set left as wide as the unit says.
LaunchOptions launch_options_for(const ServicePlan& plan);

// `--service UNIT_FILE [-- ARGS]` in one call: load, parse, plan, map.
// Every problem (unreadable unit, '+' prefix, invalid id, unknown user) is a
// Failure with exit code 2 naming the unit and line, found before anything
// is started. `notes` receives what the user should know.
common::Result<LaunchOptions> launch_options_for_unit(const std::string& unit_path,
                                                      const std::vector<std::string>& command,
                                                      std::vector<std::string>* notes = nullptr);

}  // namespace capaudit::record
