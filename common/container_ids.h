// Container ids in cgroup paths. The engines name a container's cgroup after
// its id; the recorder uses this to find the containers under a traced
// cgroup, the analyzer to group a recording's processes per container.
#pragma once

#include <string>
#include <string_view>

namespace capaudit::common {

// The id of the innermost container a cgroup path is in, or "". A component
// counts when it is one of (ID = 64 lowercase hex digits):
//   libpod-ID, libpod-ID.scope       podman (cgroupfs, systemd manager)
//   docker-ID.scope, docker/ID       docker (systemd, cgroupfs manager)
//   cri-containerd-ID.scope, crio-ID.scope, crio-ID   containerd and CRI-O (Kubernetes)
// libpod-conmon-ID (podman's monitor) is not the container: conmon is the runtime's.
std::string container_id_of_cgroup(std::string_view path);

}  // namespace capaudit::common
