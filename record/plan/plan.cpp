#include "record/plan/plan.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/error.h"
#include "common/log.h"
#include "record/host/container.h"
#include "record/host/privileges.h"
#include "record/host/proc_scan.h"
#include "record/host/service.h"

namespace capaudit::record {
namespace {

common::Result<uint64_t> cgroup_id_of(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0)
    return common::fail(common::errno_message("cgroup " + path, errno), "give a cgroup v2 directory");
  if (fs.f_type != CGROUP2_SUPER_MAGIC)
    return common::fail(path + " is not a cgroup v2 directory",
                        "cgroup v2 is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return common::fail(common::errno_message("cgroup " + path, errno));
  // On cgroup v2 the kernfs node id, which BPF sees as the cgroup id, is the inode number.
  return static_cast<uint64_t>(st.st_ino);
}

BpfConfig bpf_config_for(const RecordOptions& options) {
  BpfConfig config;
  config.hook = options.hook;
  config.stacks_per_key = options.stacks_per_key;
  config.paths_per_key = options.paths_per_key;
  config.user_stacks = options.user_stacks && options.stacks_per_key > 0;
  config.ringbuf_bytes = options.ringbuf_bytes;
  config.recorder_tgid = getpid();
  config.verbose = options.verbose;
  config.facts = options.facts;
  // Running the target with fewer privileges is done to see its denials, so
  // their outcomes matter from the first one on.
  config.outcomes = options.outcomes ? *options.outcomes
                    : (!options.user.empty() || !options.caps.empty() || !options.service.empty())
                        ? OutcomeMode::all
                        : OutcomeMode::first_denial;
  config.outcome_window_ns = options.outcome_window_ms * 1'000'000ull;
  return config;
}

}  // namespace

common::Result<RecordPlan> plan_recording(const RecordOptions& given) {
  RecordPlan plan;
  RecordOptions& options = plan.options;
  options = given;
  // --service: the unit decides the command and how it starts, all checked
  // before anything is loaded (record/host/service.h).
  std::optional<LaunchOptions> service_launch;
  if (!given.service.empty()) {
    if (!given.user.empty() || !given.caps.empty())
      return common::fail("--service takes the user and capabilities from the unit", "drop --user/--caps", 2);
    std::vector<std::string> notes;
    auto launch = launch_options_for_unit(given.service, given.command, &notes);
    if (!launch) return launch.error();
    service_launch = std::move(*launch);
    for (const auto& n : notes) common::log(common::LogLevel::info, "service: " + n);
    options.command = service_launch->argv;
  }
  int modes = (!options.command.empty()) + (options.pid.has_value()) + (!options.cgroup.empty()) +
              (!options.container.empty());
  if (modes != 1)
    return common::fail("give exactly one target: -- CMD ARGS, -p PID, --cgroup PATH or --container NAME",
                        "see --help", 2);
  if (!options.container.empty()) {
    // The engine names the cgroup; from here on it is --cgroup.
    auto c = resolve_container(options.container);
    if (!c) return c.error();
    options.cgroup = c->cgroup_dir;
    options.container = c->engine + " container " + c->name + " (" + c->id.substr(0, 12) + ")";
    if (options.verbose)
      fprintf(stderr, "capaudit-record: %s runs in %s\n", options.container.c_str(), c->cgroup_dir.c_str());
  }
  if (options.output.empty()) return common::fail("no output file", "give -o FILE (or -o - for stdout)", 2);

  auto privileges = check_recording_privileges();
  if (!privileges.ok) return common::fail(privileges.message, privileges.hint, 1);

  plan.bpf = bpf_config_for(options);
  if (!options.cgroup.empty()) {
    auto id = cgroup_id_of(options.cgroup);
    if (!id) return id.error();
    plan.bpf.cgroup_id = *id;
    plan.bpf.cgroup_path = options.cgroup;
  }

  if (options.pid) {
    for (uint32_t p : process_tree(static_cast<uint32_t>(*options.pid)).pids)
      plan.tree.push_back(static_cast<pid_t>(p));
    if (plan.tree.empty()) return common::fail("no process " + std::to_string(*options.pid), "check the pid with ps", 2);
  }

  // Resolve everything the user can get wrong before loading anything.
  if (service_launch) {
    plan.launch = *service_launch;
  } else if (!options.command.empty()) {
    plan.launch.argv = options.command;
    if (!options.user.empty()) {
      auto user = resolve_user(options.user);
      if (!user) return user.error();
      plan.launch.user = std::move(*user);
    }
    if (!options.caps.empty()) {
      auto caps = parse_cap_list(options.caps);
      if (!caps) return caps.error();
      plan.launch.caps = *caps;
    }
  }
  return plan;
}

}  // namespace capaudit::record
