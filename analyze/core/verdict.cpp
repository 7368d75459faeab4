#include "analyze/core/verdict.h"

#include <sys/wait.h>

#include <algorithm>
#include <sstream>

#include "analyze/core/quote.h"
#include "common/capabilities.h"

namespace capaudit::analyze {
namespace {

// Indexed by capability number (linux/capability.h).
constexpr const char* kPurpose[] = {
    "change file owners",                                  // CHOWN
    "bypass file permission checks",                       // DAC_OVERRIDE
    "bypass file read and directory search checks",        // DAC_READ_SEARCH
    "act on files it does not own",                        // FOWNER
    "keep set-user/group-ID bits on files it changes",     // FSETID
    "send signals to other users' processes",              // KILL
    "change group IDs",                                    // SETGID
    "change user IDs",                                     // SETUID
    "change capability sets",                              // SETPCAP
    "set immutable and append-only file flags",            // LINUX_IMMUTABLE
    "bind ports below 1024",                               // NET_BIND_SERVICE
    "broadcast and listen to multicast",                   // NET_BROADCAST
    "configure interfaces, routes and firewall",           // NET_ADMIN
    "open raw and packet sockets",                         // NET_RAW
    "lock memory",                                         // IPC_LOCK
    "bypass System V IPC permission checks",               // IPC_OWNER
    "load and unload kernel modules",                      // SYS_MODULE
    "raw I/O: ports, /dev/mem, mmap below mmap_min_addr",  // SYS_RAWIO
    "chroot",                                              // SYS_CHROOT
    "trace and inspect other processes",                   // SYS_PTRACE
    "switch process accounting",                           // SYS_PACCT
    "administration: mount, namespaces, and more",         // SYS_ADMIN
    "reboot",                                              // SYS_BOOT
    "raise priorities, real-time scheduling",              // SYS_NICE
    "exceed resource limits",                              // SYS_RESOURCE
    "set the system clock",                                // SYS_TIME
    "configure terminals",                                 // SYS_TTY_CONFIG
    "create device nodes",                                 // MKNOD
    "take file leases",                                    // LEASE
    "write to the audit log",                              // AUDIT_WRITE
    "configure auditing",                                  // AUDIT_CONTROL
    "set file capabilities",                               // SETFCAP
    "override the MAC policy",                             // MAC_OVERRIDE
    "configure the MAC policy",                            // MAC_ADMIN
    "read the kernel log and kernel addresses",            // SYSLOG
    "set wake-up alarms",                                  // WAKE_ALARM
    "block system suspend",                                // BLOCK_SUSPEND
    "read the audit log",                                  // AUDIT_READ
    "performance monitoring",                              // PERFMON
    "load BPF programs and maps",                          // BPF
    "checkpoint/restore: choose PIDs",                     // CHECKPOINT_RESTORE
};

std::vector<std::string> top_syscalls(const CapFinding& f, bool denied) {
  std::vector<SyscallUse> uses = f.syscalls;
  std::stable_sort(uses.begin(), uses.end(), [&](const SyscallUse& a, const SyscallUse& b) {
    return (denied ? a.denied : a.granted) > (denied ? b.denied : b.granted);
  });
  std::vector<std::string> out;
  for (const auto& u : uses) {
    if ((denied ? u.denied : u.granted) == 0 || u.nr < 0) continue;
    out.push_back(u.name);
    if (out.size() == 3) break;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

RunProblem problem(RunProblemKind kind, const std::string& run) {
  RunProblem p;
  p.kind = kind;
  p.run = run;
  return p;
}

}  // namespace

const char* to_string(RunProblemKind k) {
  switch (k) {
    case RunProblemKind::not_started: return "not_started";
    case RunProblemKind::exited_nonzero: return "exited_nonzero";
    case RunProblemKind::killed: return "killed";
    case RunProblemKind::denied_failure: return "denied_failure";
    case RunProblemKind::recorder_error: return "recorder_error";
    case RunProblemKind::incomplete: return "incomplete";
  }
  return "unknown";
}

std::string cap_purpose(int cap) {
  if (cap >= 0 && cap < static_cast<int>(std::size(kPurpose))) return kPurpose[cap];
  return "a capability this tool has no description for";
}

Verdict make_verdict(const Report& r) {
  Verdict v;
  v.grant = r.recommended;
  v.complete = r.complete;
  const bool many = r.runs.size() > 1;
  for (const auto& run_info : r.runs) {
    RunInfo run = run_info;
    if (!many) run.id.clear();  // one run: no need to name it
    if (run.exit_status) {
      const int32_t s = *run.exit_status;
      if (run.processes == 0) {
        RunProblem p = problem(RunProblemKind::not_started, run.id);
        p.stop_reason = run.stop_reason;
        v.problems.push_back(std::move(p));
        v.run_ends.push_back({RunEndKind::not_started, run.id, 0, ""});
      } else if (WIFEXITED(s) && WEXITSTATUS(s) == 0) {
        v.run_ends.push_back({RunEndKind::exited_zero, run.id, 0, ""});
      } else {
        RunProblem p = problem(WIFSIGNALED(s) ? RunProblemKind::killed : RunProblemKind::exited_nonzero, run.id);
        p.wait_status = s;
        v.problems.push_back(std::move(p));
        v.run_ends.push_back({RunEndKind::failed, run.id, s, ""});
      }
    } else if (run.stop_reason.rfind("error", 0) == 0) {
      RunProblem p = problem(RunProblemKind::recorder_error, run.id);
      p.stop_reason = run.stop_reason;
      v.problems.push_back(std::move(p));
    } else if (!run.stop_reason.empty()) {
      v.run_ends.push_back({RunEndKind::stopped, run.id, 0, run.stop_reason});
    }
    const bool started = !run.exit_status || run.processes > 0;
    if (run.incomplete && started) {
      RunProblem p = problem(RunProblemKind::incomplete, run.id);
      p.incomplete_reasons = run.incomplete_reasons;
      v.problems.push_back(std::move(p));
    }
  }
  for (const auto& f : r.caps) {
    if (!f.denial) continue;
    if (f.category == Category::advisory || f.category == Category::not_needed) continue;
    const auto& d = *f.denial;
    v.denials_succeeded_anyway += d.succeeded_anyway;
    v.denials_unknown += d.no_outcome + d.not_tracked + d.interrupted + d.other_error;
    if (d.failed == 0) continue;
    RunProblem p = problem(RunProblemKind::denied_failure, "");
    p.cap = f.cap;
    p.syscalls = top_syscalls(f, true);
    p.failed = d.failed;
    v.problems.push_back(std::move(p));
  }
  v.run_failed = std::any_of(v.problems.begin(), v.problems.end(), [](const RunProblem& p) { return p.run_failed(); });
  for (const auto& e : r.executables) {
    if (!e.recommended) continue;
    ExecutableGrant g{e.path, e.unknown_pids, {}};
    for (const auto& f : e.caps) {
      if (!f.recommended) continue;
      GrantLine line{f.cap, f.name, cap_purpose(f.cap), top_syscalls(f, false), f.category == Category::conditional,
                     f.rules.empty() ? std::string() : f.rules.front().rule, f.startup_only};
      g.caps.push_back(std::move(line));
    }
    v.executables.push_back(std::move(g));
  }
  return v;
}

std::string render_verdict_text(const Verdict& v) {
  std::ostringstream o;
  const auto names = common::cap_mask_names(v.grant, common::CapNameStyle::upper, " ");
  if (v.run_failed) {
    o << "Verdict: THE RUN FAILED - do not deploy this as a working capability set\n";
    for (const auto& p : v.problems)
      if (p.run_failed()) o << "  ! " << visible((p.run.empty() ? "" : p.run + ": ") + run_problem_text(p)) << "\n";
    const bool started = std::none_of(v.problems.begin(), v.problems.end(),
                                      [](const RunProblem& p) { return p.kind == RunProblemKind::not_started; });
    if (started || v.grant) o << "  Used before it failed: " << (v.grant ? names : "no capability") << "\n";
  } else if (!v.complete) {
    // Data was lost: what was seen is a lower bound, never "nothing needed".
    o << "Verdict: INCOMPLETE RECORDING - "
      << (v.grant ? "grant at least " + names : std::string("no capability seen in what was recorded")) << "\n";
  } else if (v.grant) {
    o << "Verdict: grant " << names << "\n";
  } else {
    o << "Verdict: no capability needed\n";
  }
  for (const auto& e : v.executables) {
    o << "  " << visible(executable_name_text(e.path, e.unknown_pids)) << "\n";  // trace text: one visible line
    for (const auto& c : e.caps) {
      std::string line = "    " + c.name;
      line.resize(std::max<size_t>(line.size() + 2, 30), ' ');
      line += c.purpose;
      if (!c.syscalls.empty()) line += " (" + join(c.syscalls, ", ") + ")";
      if (c.conditional) line += "; only because of " + (c.rule.empty() ? std::string("a sysctl/rlimit") : c.rule);
      if (c.startup_only) line += "; start-up only";
      o << line << "\n";
    }
  }
  // Can the answer be trusted?
  std::vector<std::string> facts;
  for (const auto& e : v.run_ends) facts.push_back(run_end_text(e));
  facts.push_back(v.complete ? "recording complete" : "recording INCOMPLETE");
  if (!v.run_failed) {
    bool denied_failed = false;
    for (const auto& p : v.problems) denied_failed |= p.kind == RunProblemKind::denied_failure;
    if (!denied_failed) {
      if (v.denials_unknown)
        facts.push_back(std::to_string(v.denials_unknown) + " denied check(s) with unknown outcome (see Denied)");
      else if (v.denials_succeeded_anyway)
        facts.push_back("denied checks did not stop the program (it carried on without them)");
      else
        facts.push_back("nothing was denied");
    }
  }
  o << "  " << (v.run_failed ? "Run: " : v.complete ? "Trust: " : "Trust (limited): ") << visible(join(facts, "; ")) << "\n";
  for (const auto& p : v.problems)
    if (p.kind == RunProblemKind::incomplete) o << "  ! " << visible((p.run.empty() ? "" : p.run + ": ") + run_problem_text(p)) << "\n";
  return o.str();
}

std::string verdict_warning(const Verdict& v) {
  std::string out;
  if (v.run_failed) {
    out += "the recorded run failed, so this is not a working capability set:\n";
    for (const auto& p : v.problems)
      if (p.run_failed()) out += "  " + (p.run.empty() ? "" : p.run + ": ") + run_problem_text(p) + "\n";
  }
  for (const auto& p : v.problems)
    if (!p.run_failed()) out += (p.run.empty() ? "" : p.run + ": ") + run_problem_text(p) + "\n";
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace capaudit::analyze
