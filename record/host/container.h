// --container NAME|ID: ask the container engine (podman, else docker) which
// cgroup the container runs in, so the recorder can trace it as --cgroup.
// Runs the engine's own CLI (`podman inspect`), as the user would.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/trace.h"

namespace capaudit::record {

struct ContainerTarget {
  std::string engine;       // "podman" or "docker"
  std::string id;           // full id
  std::string name;         // as the user gave it
  uint32_t pid = 0;         // the container's init process (host pid namespace)
  std::string cgroup_dir;   // cgroup v2 directory, e.g. /sys/fs/cgroup/unified/libpod_parent/libpod-ID
};

// Runs ARGV (argv[0] looked up in PATH), returns its exit code and stdout;
// nullopt when it cannot be started (not installed). Tests inject a fake.
struct CommandOutput {
  int exit_code = -1;
  std::string out, err;
};
using CommandRunner = std::function<std::optional<CommandOutput>(const std::vector<std::string>& argv)>;
std::optional<CommandOutput> run_command(const std::vector<std::string>& argv);

// Resolves NAME with the first engine that is installed and knows it. A
// Failure says why in words a user can act on (no engine installed, no such
// container, not running) and its hint what to do.
// proc_root/cgroup_roots let tests point at fake trees.
common::Result<ContainerTarget> resolve_container(const std::string& name, const CommandRunner& run = run_command,
                                                  const std::string& proc_root = "/proc",
                                                  const std::vector<std::string>& cgroup_roots = {
                                                      "/sys/fs/cgroup/unified", "/sys/fs/cgroup"});

// The containers in or under the cgroup v2 directory CGROUP_DIR (its
// directories whose path names a container id: common/container_ids.h),
// each named by the first engine that knows the id. Ask while privileged:
// podman run by root without capabilities takes itself for a rootless podman.
// At most 256 containers; a container no engine knows keeps its id, name "".
std::vector<common::ContainerName> containers_under(const std::string& cgroup_dir,
                                                    const CommandRunner& run = run_command,
                                                    const std::vector<std::string>& cgroup_roots = {
                                                        "/sys/fs/cgroup/unified", "/sys/fs/cgroup"});

}  // namespace capaudit::record
