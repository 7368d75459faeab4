// The system context snapshot (DESIGN section 3): the facts about the host,
// its kernel and the target's limits that the analyzer needs to interpret and
// re-evaluate a trace offline. Take it once, BEFORE drop_after_attach: the
// private securityfs mount and entering another netns need CAP_SYS_ADMIN.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/trace.h"

namespace capaudit::record {

// The ID of the initial user namespace: fixed by the kernel (PROC_USER_INIT_INO
// in include/linux/proc_ns.h), so it is right even inside a container.
constexpr uint64_t kInitUserNsInum = 0xEFFFFFFDu;

// DESIGN section 5's global sysctls (dotted names), fs.mqueue.* expanded from
// what this kernel has. Knobs a kernel does not have are simply not read.
std::vector<std::string> global_sysctl_names(const std::string& sys_root = "/proc/sys");
// The per-network-namespace ones.
std::vector<std::string> netns_sysctl_names();

// Reads each name below sys_root ("net.ipv4.x" → net/ipv4/x), trailing
// newline removed; names that do not exist are omitted.
std::vector<common::KeyValue> read_sysctls(const std::vector<std::string>& names,
                                           const std::string& sys_root = "/proc/sys");

// The per-netns sysctls as seen inside PID's network namespace. /proc/sys/net
// answers for the reading thread's netns, so a short-lived thread joins the
// target's netns (setns, needs CAP_SYS_ADMIN) and reads them there; the rest of
// the recorder never changes namespace.
struct NetnsSysctls {
  uint64_t netns_inum = 0;
  std::vector<common::KeyValue> values;
  std::string error;  // why the values are missing, if they are
};
NetnsSysctls read_netns_sysctls(pid_t pid);

// Every RLIMIT_* of PID (prlimit); UINT64_MAX = unlimited.
std::vector<common::Rlimit> read_rlimits(pid_t pid);

// Lockdown and LSMs from securityfs. When securityfs is not mounted it is
// mounted in a private mount namespace of a short-lived child (the host's
// mounts stay untouched); if even that fails, lockdown reads
// "unknown (securityfs not mounted)".
struct SecurityInfo {
  std::string lockdown;  // raw file text, e.g. "[none] integrity confidentiality"
  std::vector<std::string> lsms;
};
SecurityInfo read_security_info(const std::string& securityfs = "/sys/kernel/security");
// Parses "lockdown,capability,landlock,yama,apparmor\n".
std::vector<std::string> parse_lsm_list(const std::string& text);

// The Kconfig symbols the analyzer's rules read (every `kernel.config.NAME`
// in analyze/data/sysctl_rules.conf, extracted at build time), as
// "CONFIG_NAME".
const std::vector<std::string>& kernel_config_symbols();

// The running kernel's build configuration, as far as SYMBOLS go (format 1.9,
// HostSection.kernelConfig). Read from the kernel's own config file:
// PROC_CONFIG (gzip, CONFIG_IKCONFIG_PROC; built into the running kernel) if
// it exists, else BOOT_DIR/config-RELEASE (Debian's linux-image packages ship
// it). No readable file: source empty, missing says why.
struct KernelConfig {
  std::string source;
  std::vector<common::KeyValue> symbols;
  std::string missing;
};
KernelConfig read_kernel_config(const std::vector<std::string>& symbols, const std::string& release,
                                const std::string& proc_config = "/proc/config.gz", const std::string& boot_dir = "/boot");
// Each of SYMBOLS as a .config text holds it: "y", "m", the text after '=',
// "n" for "# CONFIG_X is not set", "absent" when the text does not name it.
std::vector<common::KeyValue> parse_kernel_config(std::string_view text, const std::vector<std::string>& symbols);
// A config file larger than this is not one (a real one is ~300 KiB).
inline constexpr size_t kMaxKernelConfigBytes = 16u << 20;

// Fills Header's host/kernel, clock and sysctl sections and target_rlimits
// for the target process: for `-- CMD` the held child, for -p the pid, for
// --cgroup one of its processes (a container has its own netns); the
// recorder's own pid reads the recorder's view. Never throws; returns warnings for facts that
// could not be read (the header then simply lacks them).
std::vector<std::string> fill_system_context(common::Header& header, pid_t target);

}  // namespace capaudit::record
