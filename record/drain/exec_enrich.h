// What an exec event needs from the host beyond what the kernel side sent:
// the real path of the image, the file's capabilities, the cgroup's path.
// File I/O (readlink, xattrs, a walk of the cgroup hierarchy), so it runs on
// the drain loop after the ring buffer poll returns, never inside libbpf's
// ring-buffer callback (record/drain/drain.h).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/trace.h"

namespace capaudit::record {

// Maps cgroup ids back to paths for exec events, rescanning the hierarchy
// lazily (and at most once a second) when an unknown id shows up.
class CgroupNames {
 public:
  // The path below the cgroup v2 root ("/system.slice/x.service", "/" for
  // the root), or "" when ID is not (yet) known.
  std::string name(uint64_t id, uint64_t now_ns);

 private:
  void scan(const std::string& dir, const std::string& rel, int depth);
  std::unordered_map<uint64_t, std::string> names_;
  uint64_t last_scan_ns_ = 0;
};

class ExecEnricher {
 public:
  // Fills E.filename (when the kernel's name is relative or through /proc or
  // /dev/fd), E.cgroup and E.file_caps.
  void enrich(common::ExecEvent& e);

 private:
  CgroupNames cgroups_;
};

}  // namespace capaudit::record
