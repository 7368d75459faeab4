// Named ConfigInput cases shared by the golden and the real-validation tests.
#pragma once

#include <linux/capability.h>

#include <string>
#include <vector>

#include "analyze/config/configs.h"

namespace capaudit::analyze::test {

inline uint64_t bit(int cap) { return uint64_t{1} << cap; }

struct NamedCase {
  std::string name;
  ConfigInput input;
};

// A root daemon that binds a low port and sets its uid once at start-up.
inline ConfigInput root_daemon() {
  ConfigInput in;
  in.name = "webd";
  in.executables.push_back({"/usr/sbin/webd", bit(CAP_NET_BIND_SERVICE) | bit(CAP_SETUID),
                            bit(CAP_SETUID), std::nullopt});
  return in;
}

// A non-root service (nobody) with two binaries: one pings (raw socket), one
// carries stale file capabilities it never used.
inline ConfigInput nonroot_service() {
  ConfigInput in;
  in.name = "probe";
  in.uid = 65534;
  in.gid = 65534;
  in.user = "nobody";
  in.executables.push_back({"/opt/probe/bin/pinger", bit(CAP_NET_RAW) | bit(CAP_NET_BIND_SERVICE),
                            0, std::nullopt});
  common::FileCaps stale;
  stale.version = 2;
  stale.permitted = bit(CAP_SYS_ADMIN);
  stale.effective = true;
  in.executables.push_back({"/opt/probe/bin/report", 0, 0, stale});
  return in;
}

// Nothing needed, recorded with no_new_privs.
inline ConfigInput no_caps() {
  ConfigInput in;
  in.name = "quiet";
  in.no_new_privs_recorded = true;
  in.executables.push_back({"/usr/bin/quiet", 0, 0, std::nullopt});
  return in;
}

// Non-root and a binary that gets its capability from its own file caps.
inline ConfigInput file_capped_admin() {
  ConfigInput in;
  in.name = "netadm";
  in.uid = 1000;
  in.gid = 1000;
  common::FileCaps fc;
  fc.version = 2;
  fc.permitted = bit(CAP_NET_ADMIN) | bit(CAP_SYS_ADMIN);
  fc.effective = true;
  in.executables.push_back({"/usr/local/bin/netadm", bit(CAP_NET_ADMIN) | bit(CAP_SYS_ADMIN), 0, fc});
  return in;
}

inline std::vector<NamedCase> all_cases() {
  return {{"root_daemon", root_daemon()},
          {"nonroot_service", nonroot_service()},
          {"no_caps", no_caps()},
          {"file_capped_admin", file_capped_admin()}};
}

}  // namespace capaudit::analyze::test
