// Processes that exist before recording starts (-p PID, --cgroup PATH): find
// them in /proc and describe them as ProcessInfo for the trace's snapshot.
// proc_root lets tests point at a fake tree; callers use the default.
// Call read_process(es) BEFORE drop_after_attach: /proc/PID/exe of another
// uid's process needs CAP_SYS_PTRACE (ptrace read access).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/trace.h"

namespace capaudit::record {

// The parts of /proc/PID/stat we use. comm may hold spaces and ')'.
struct ProcStat {
  uint32_t pid = 0;
  std::string comm;
  char state = '?';
  uint32_t ppid = 0;
  uint64_t start_ticks = 0;  // field 22: clock ticks after boot (CLOCK_BOOTTIME)
};
std::optional<ProcStat> parse_proc_stat(const std::string& text);

// Field 22 → ns since boot. Ticks are 1/sysconf(_SC_CLK_TCK) s (10 ms at
// 100 Hz): the result is the kernel's start_boottime rounded down to a tick,
// so compare it with BPF-side start times to a tick, not exactly.
uint64_t ticks_to_ns(uint64_t ticks, long ticks_per_second);

// "0::/system.slice/x.service" line of /proc/PID/cgroup → "/system.slice/x.service";
// empty when there is no cgroup v2 line.
std::string cgroup_v2_path(const std::string& proc_cgroup_text);

// Process ids (thread group leaders) currently in /proc.
std::vector<uint32_t> list_processes(const std::string& proc_root = "/proc");
// Thread ids of a process (its pid included); empty if it is gone.
std::vector<uint32_t> threads_of(uint32_t pid, const std::string& proc_root = "/proc");

// -p PID: the process, its descendants (by ppid, at the time of the scan),
// and every thread of each. pids[0] == root; empty if root does not exist.
struct ProcessTree {
  std::vector<uint32_t> pids;
  std::vector<uint32_t> tids;  // all threads of all pids, leaders included
};
ProcessTree process_tree(uint32_t root, const std::string& proc_root = "/proc");

// --cgroup DIR: the processes in a cgroup v2 directory (cgroup.procs) and, when
// recursive, in every cgroup below it. Fails if DIR is not readable.
common::Result<std::vector<uint32_t>> cgroup_processes(const std::string& cgroup_dir, bool recursive);

// Everything ProcessInfo holds about PID; nullopt if it exited meanwhile.
// Kernel threads have no exe and no argv. File caps come from /proc/PID/exe,
// so a replaced or deleted binary is still the one that runs.
std::optional<common::ProcessInfo> read_process(uint32_t pid, const std::string& proc_root = "/proc");
std::vector<common::ProcessInfo> read_processes(const std::vector<uint32_t>& pids,
                                                const std::string& proc_root = "/proc");

}  // namespace capaudit::record
