// What the recorder itself may do: does it hold enough capabilities to load
// and attach BPF programs, and which ones it gives up once attached.
//
// Capability masks are uint64_t with bit N = capability N (linux/capability.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/trace.h"
#include "common/trace_io.h"

namespace capaudit::record {

// Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_cap();
uint64_t all_caps_mask();

// "cap_net_bind_service"; unknown numbers as "cap_41".
std::string cap_name(int cap);
// "cap_net_raw,cap_bpf"; "none" for an empty mask.
std::string cap_list(uint64_t mask);

// Parses "cap_net_bind_service,net_raw,CAP_BPF,21"; "" and "none" are the empty
// set. A name the kernel does not know fails (exit code 2: the user's input).
common::Result<uint64_t> parse_cap_list(const std::string& text);

// The calling thread's sets, as the kernel reports them in /proc/self/status.
common::CapSets current_caps();
// Parses the Cap* lines of a /proc/PID/status text.
common::CapSets parse_status_caps(const std::string& status_text);

// Whether an effective set may record: CAP_BPF and CAP_PERFMON together, or
// CAP_SYS_ADMIN (which implies both on every kernel we support).
struct PrivilegeVerdict {
  bool ok = false;
  uint64_t missing = 0;  // what to add to the effective set (BPF|PERFMON) when !ok
  std::string message;   // "missing cap_bpf, cap_perfmon in the effective set"
  std::string hint;      // "run as root (sudo) or grant cap_bpf,cap_perfmon"
};
PrivilegeVerdict evaluate_recording_privileges(uint64_t effective);
// Reads this process's effective set; uid 0 without the capabilities is refused.
PrivilegeVerdict check_recording_privileges();

// What the recorder still needs after its BPF programs are attached. Every
// other capability is dropped from all five sets. Decisions:
// - Launching: the command is forked (Launcher::start) BEFORE the drop, with the
//   recorder's full sets, so --user/--caps need nothing kept (no SETUID, SETGID,
//   SETPCAP): the child switches identity itself.
// - KILL: forwarding SIGINT/SIGTERM to (and killing) a target that runs as
//   another uid (--user) needs it.
// - BPF: kernels before 6.5 refuse every bpf() command, including map lookups
//   through an fd already held, when kernel.unprivileged_bpf_disabled is set;
//   keep it if the session reads maps (loss counters) after the drop there.
//   Ring buffer consumption (mmap + epoll) needs no capability.
// - BPF until the first denied check when outcomes are tracked from then on
//   (OutcomeMode::first_denial): the syscall-exit program, loaded before the
//   drop, is attached then (bpf() on held fds; no PERFMON needed on 6.18,
//   measured); dropped right after unless map reads need it anyway. With
//   outcome windows (the default) it is re-attached on every window, so
//   BPF stays for the whole recording (kernels with
//   unprivileged_bpf_disabled set keep it for the map reads anyway).
// - DAC_OVERRIDE (and CHOWN under sudo) only with --split-size/--split-time:
//   the later pieces are created after the drop, beside the first one.
// - No DAC_OVERRIDE/DAC_READ_SEARCH/SYS_PTRACE/SYS_ADMIN otherwise: the output file is
//   opened and chowned, /proc/kallsyms read, the system context taken
//   (fill_system_context) and the -p/--cgroup snapshot read (read_processes)
//   before the drop; event data comes from the kernel, not from reading other
//   processes' /proc files.
struct KeepAfterAttach {
  bool signal_other_uid = false;  // keep CAP_KILL
  bool bpf_map_access = false;    // keep CAP_BPF
  bool attach_later = false;      // keep CAP_BPF: a program is attached on a later denial
  uint64_t extra = 0;             // anything else the caller justifies
};
uint64_t mask_to_keep(const KeepAfterAttach& keep);

// Reduces effective, permitted and bounding sets to mask_to_keep(keep) and
// clears inheritable and ambient. Irreversible.
common::Result<> drop_after_attach(const KeepAfterAttach& keep);

// Installs exact capability sets with raw prctl/capset calls, in the order the
// kernel requires: bounding (needs CAP_SETPCAP; only bits outside `bounding`
// are dropped), then capset(E, P, I), then ambient. No allocation and no
// libc state: safe between fork and exec. last_cap comes from the caller for
// the same reason.
struct RawCapRequest {
  int last_cap = 40;
  uint64_t bounding = ~uint64_t{0};
  uint64_t effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};
struct RawCapFailure {
  const char* stage = "";  // "drop bounding set", "capset", "raise ambient"
  int err = 0;
};
bool install_caps_raw(const RawCapRequest& req, RawCapFailure* failure);

// The user who ran `sudo capaudit-record`: SUDO_UID/SUDO_GID, honoured only
// when the real uid is 0 (sudo sets it; anyone can set the variables).
struct InvokingUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
};
using GetEnv = std::function<const char*(const char*)>;
std::optional<InvokingUser> invoking_user(uint32_t real_uid, const GetEnv& getenv);
std::optional<InvokingUser> invoking_user();  // from this process

// Sets opts.owner_uid/gid so the trace file belongs to the sudo user.
void apply_invoking_user(common::OutputOptions& opts);

}  // namespace capaudit::record
