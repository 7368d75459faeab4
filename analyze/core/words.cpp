// The words of the findings: every sentence a report says about why a
// capability is where it is, why a conclusion changed between profiles, and
// what limits the analysis. Made here, once, from the typed findings that
// classification returns, for text, JSON and YAML alike.
#include <sys/wait.h>

#include <algorithm>
#include <set>

#include "analyze/core/names.h"
#include "analyze/core/render.h"
#include "analyze/core/verdict.h"

namespace capaudit::analyze {
namespace {

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string join(const std::set<std::string>& v, const std::string& sep) {
  return join(std::vector<std::string>(v.begin(), v.end()), sep);
}

// "/usr/bin/a, executable not recorded (pid 7)"
std::string names_text(const std::vector<ExecutableName>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(executable_name_text(e));
  return join(out, ", ");
}

// "bind x2, socket x1" over the syscalls with granted checks.
std::string granted_syscalls(const CapFinding& f) {
  std::vector<std::string> out;
  for (const auto& s : f.syscalls)
    if (s.granted) out.push_back(s.name + " x" + std::to_string(s.granted));
  return out.empty() ? "no syscall" : join(out, ", ");
}

// The rule hits that keep the capability: "rule R: OPERATION (INPUTS)".
std::string needing_hits(const CapFinding& f, bool predicted_only) {
  std::vector<std::string> out;
  for (const auto& h : f.rules)
    if (h.needed_target != false && !h.impossible_target && (!predicted_only || !h.check_observed))
      out.push_back("rule " + h.rule + ": " + h.operation + " (" + join(h.inputs, "; ") + ")" +
                    (h.needed_target ? "" : " - a value the rule reads is unknown, so the capability is kept"));
  return join(out, "; ");
}

std::string noise_text(const NoiseCause& n) {
  switch (n.kind) {
    case NoiseCause::Kind::catalogue:
    case NoiseCause::Kind::catalogue_fallback: return n.meaning;
    case NoiseCause::Kind::noaudit: return "checked with CAP_OPT_NOAUDIT: the kernel itself treats it as a probe";
    case NoiseCause::Kind::foreign_credentials: {
      std::string euids;
      for (uint32_t u : n.euids) euids += (euids.empty() ? "" : ", ") + std::to_string(u);
      return "checked with credentials that are not the program's own (euid " + euids +
             ", another identity the kernel installed with override_creds(), such as the overlayfs "
             "mounter's): the operation does not depend on the program's capabilities";
    }
    case NoiseCause::Kind::capset_setpcap:
      return "capset() asks for CAP_SETPCAP on every call (cap_capset()), but it decides only a raise of the "
             "inheritable set beyond inheritable and permitted, which this program never made";
    case NoiseCause::Kind::none: break;
  }
  return "";
}

std::string category_text(const CategoryReason& r, const CapFinding& f) {
  using K = CategoryReason::Kind;
  switch (r.kind) {
    case K::unexplained_grant:
      return "granted in " + granted_syscalls(f) + "; no sysctl rule or noise entry explains the check" +
             (r.raw_socket_unexplainable
                  ? "; the socket facts come from cgroup hooks, which never see an ICMP datagram socket refused by "
                    "net.ipv4.ping_group_range: if this raw socket is a ping fallback, a wider ping_group_range "
                    "could make the capability unnecessary, but the trace cannot show it"
                  : "");
    case K::narrower_instead: {
      std::set<std::string> where;
      for (const auto& s : r.stood_in)
        where.insert(s.syscall + ", where " + cap_name(s.broad) + " (granted) stood in for it: " + s.why);
      const std::string hits = needing_hits(f, false);
      return "denied in " + join(where, "; ") + "; grant this narrower capability instead" +
             (hits.empty() ? "" : "; needed because of " + hits);
    }
    case K::rule_needed: return "needed because of " + needing_hits(f, false);
    case K::rule_predicted:
      return "predicted by " + needing_hits(f, true) + "; the trace shows the operation but no check";
    case K::fallback_only: {
      std::set<std::string> narrow;
      for (const auto& s : r.stood_in)
        narrow.insert(cap_name(s.narrow) + " in " + s.syscall + " (" + s.why + ")");
      return "granted only as the fallback of a narrower capability that was denied: " + join(narrow, "; ") +
             "; grant that one instead";
    }
    case K::rule_not_needed: {
      std::vector<std::string> why;
      for (const auto& h : f.rules)
        why.push_back("rule " + h.rule + ": " + h.operation +
                      (h.impossible_target ? " fails under the target profile whatever the capabilities"
                                           : " does not need it") +
                      " (" + join(h.inputs, "; ") + ")");
      return "checks seen in " + granted_syscalls(f) + ", but " + join(why, "; ");
    }
    case K::denied_only: {
      std::vector<std::string> gating;
      for (const auto& s : r.denied_syscalls) gating.push_back(s.name + " x" + std::to_string(s.denied));
      const DenialOutcome summary = f.denial ? f.denial->summary() : DenialOutcome::no_outcome;
      return "only denied checks (" + join(gating, ", ") + "): " + to_string(summary) +
             (summary == DenialOutcome::not_tracked
                  ? " (the recorder was not tracking syscall outcomes when they were denied)"
                  : "") +
             "; a denied check is never added automatically" +
             (r.advisory_checks ? "; " + std::to_string(r.advisory_checks) + " other checks were advisory (" +
                                      noise_text(r.noise) + ")"
                                : "");
    }
    case K::noise: return noise_text(r.noise);
    case K::noise_denied: return noise_text(r.noise) + " (denied)";
    case K::capset_requested: return "requested by capset() in " + names_text(r.requested_by) + " but never checked";
    case K::capset_kept:
      return "kept by the program's own capability drop (capset/prctl) in " + names_text(r.requested_by) +
             " but never checked";
    case K::declared:
      return "declared by " + join(declared_by_text(f), ", ") + " but never exercised: a coverage gap or an unneeded grant";
  }
  return "";
}

std::string tri(std::optional<bool> v) { return !v ? "unknown" : *v ? "needed" : "not needed"; }

std::string runs_text(const std::vector<std::string>& ids) { return join(ids, ", "); }

}  // namespace

std::string reason_text(const CapFinding& f) {
  std::string out = category_text(f.reason, f);
  if (f.category == Category::advisory && f.noise_basis != NoiseBasis::call_path &&
      f.noise_basis != NoiseBasis::credentials)
    out += f.noise_basis == NoiseBasis::opts ? " (weaker: no call path, decided from opts)"
                                             : " (weakest: no call path or opts, guessed from capability and syscall)";
  if (f.startup_only) out += "; every use came before the process's first capability drop";
  return out;
}

std::string why_text(const Change& c) {
  std::vector<std::string> why;
  for (const auto& h : c.rules)
    why.push_back("rule " + h.rule + ": " + h.operation + " is " + tri(h.needed_recorded) +
                  " under the recorded profile and " + (h.impossible_target ? "impossible" : tri(h.needed_target)) +
                  " under the target (" + join(h.inputs, "; ") + ")");
  if (!why.empty()) return join(why, "; ");
  auto cat = [](const std::optional<Category>& k) { return k ? to_string(*k) : "absent"; };
  return std::string("category changed from ") + cat(c.before) + " to " + cat(c.after);
}

std::string operation_text(const OperationSeen& o) {
  const auto& a = o.args;
  auto family = [](int64_t f) { return f == 2 ? std::string("AF_INET") : f == 10 ? std::string("AF_INET6") : f == 17 ? std::string("AF_PACKET") : "family " + std::to_string(f); };
  switch (o.kind) {
    case common::OpKind::bind:
      return "bind " + family(a[0]) + " port " + std::to_string(a[1]) + " (type " + std::to_string(a[2]) + ", protocol " +
             std::to_string(a[3]) + ")";
    case common::OpKind::socket:
      return "socket " + family(a[0]) + " type " + std::to_string(a[1] & 0xf) + " protocol " + std::to_string(a[2]);
    default:
      return std::string(common::to_string(o.kind)) + "(" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + ", " +
             std::to_string(a[2]) + ", " + std::to_string(a[3]) + ")";
  }
}

std::string note_text(const Note& n) {
  switch (n.kind) {
    case NoteKind::given: return n.text;
    case NoteKind::runs_counted: return "\"seen in k of n runs\" counts observations; it is not a confidence level.";
    case NoteKind::no_call_paths:
      return "Some runs have no kernel call paths: advisory decisions there fall back to opts or capability+syscall "
             "and are weaker.";
    case NoteKind::rules_not_evaluable:
      return "Rules not yet evaluable (the trace does not record what they need): " + join(n.ids, ", ") + ".";
    case NoteKind::startup_from_capset:
      return "Startup-only is judged from capset() drops; a setuid() away from root is not recorded and so not seen "
             "as a drop.";
    case NoteKind::startup_from_capset_in:
      return "Startup-only is judged from capset() drops in " + runs_text(n.ids) +
             " (no credential changes recorded); a setuid() away from root is not recorded there and so not seen as "
             "a drop.";
    case NoteKind::outcomes_from_first_denial:
      return "Denied-syscall outcomes were tracked only from the first denial on in " + runs_text(n.ids) +
             ": denied checks before that are assessed not_tracked, not no_outcome.";
    case NoteKind::outcomes_in_windows:
      return "Denied-syscall outcomes were tracked only inside outcome windows in " + runs_text(n.ids) +
             " (from just after a denial until no further one came for a while): denied checks outside "
             "them, each window's opening denial among them, are assessed not_tracked, not no_outcome.";
    case NoteKind::outcomes_off:
      return "Denied-syscall outcomes were not tracked in " + runs_text(n.ids) +
             ": their denied checks are assessed not_tracked.";
    case NoteKind::facts_from_cgroup_hooks:
      return "bind/socket facts of " + runs_text(n.ids) +
             " come from cgroup hooks: they carry no return value, and an ICMP datagram socket refused by "
             "net.ipv4.ping_group_range is not seen, so the ping_group rule cannot explain a raw-socket "
             "fallback (CAP_NET_RAW) there.";
    case NoteKind::no_net_facts:
      return "No bind/socket facts were recorded in " + runs_text(n.ids) + ": rules on those operations cannot fire there.";
    case NoteKind::other_namespaces:
      return "Checks against non-initial user namespaces are listed per namespace and grant nothing on the host.";
    case NoteKind::not_predicted: {
      const std::string rule = n.ids.empty() ? std::string("?") : n.ids.front();
      std::string out = cap_name(n.cap) + " not predicted for " + n.operation + " (rule " + rule + "): ";
      if (!n.why.empty()) return out + n.why + ".";
      if (n.keys.empty()) return out + "a value the rule reads is unknown.";
      std::vector<std::string> flags;
      for (const auto& k : n.keys) flags.push_back("--sysctl " + k + "=VALUE");
      if (n.keys_unknown_when_recorded)
        return out + "neither the recording host nor the target profile has " + join(n.keys, ", ") +
               " (a kernel without it has no such gate); to predict for a kernel that has it, state it with " +
               join(flags, " ") + ".";
      return out + "the target profile does not say " + join(n.keys, ", ") + "; state it with " + join(flags, " ") + ".";
    }
    case NoteKind::no_link_facts:
      return "No link facts were recorded in " + runs_text(n.ids) + " (" + n.text +
             "; `capaudit-analyze info` says why): a hard link made there where fs.protected_hardlinks let it pass unchecked cannot be predicted to "
             "need CAP_FOWNER or CAP_DAC_OVERRIDE (rules protected_hardlinks, protected_hardlinks_dac) under a "
             "stricter profile.";
  }
  return n.text;
}

std::vector<std::string> declared_by_text(const CapFinding& f) {
  std::vector<std::string> out;
  for (const auto& d : f.declared_by)
    out.push_back(d.source.empty() ? "the file capabilities of " + executable_name_text(d.executable) : d.source);
  std::sort(out.begin(), out.end());
  return out;
}

std::string executable_name_text(const std::string& path, const std::vector<uint32_t>& unknown_pids, bool runtime) {
  if (!path.empty()) return path;
  std::string pids;
  for (uint32_t p : unknown_pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  if (runtime) return "container runtime or service manager before the exec (pid " + pids + ")";
  return "executable not recorded (pid " + pids + ")";
}

std::string executable_name_text(const ExecutableName& e) {
  return executable_name_text(e.path, e.unknown_pids, e.runtime);
}

bool operator<(const ExecutableName& a, const ExecutableName& b) {
  // Named programs, the common case, compare by path without words.
  if (!a.path.empty() && !b.path.empty()) return a.path < b.path;
  const std::string ta = executable_name_text(a), tb = executable_name_text(b);
  if (ta != tb) return ta < tb;
  if (a.path.empty() != b.path.empty()) return !a.path.empty();  // same words: the named one first
  return false;  // same words, both unnamed: the same pids and kind
}

std::string display_name(const ExecutableFindings& e) { return executable_name_text(e.path, e.unknown_pids, e.runtime); }

std::string display_name(const ContainerFindings& c) {
  return c.name.empty() ? c.id.substr(0, 12) + " (name not recorded)" : c.name;
}

namespace {
std::string describe_end(int32_t status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}
}  // namespace

std::string run_problem_text(const RunProblem& p) {
  switch (p.kind) {
    case RunProblemKind::not_started: {
      const std::string why = p.stop_reason.rfind("error: ", 0) == 0 ? p.stop_reason.substr(7) : p.stop_reason;
      return "the command did not start" + (why.empty() ? "" : " (" + why + ")");
    }
    case RunProblemKind::exited_nonzero:
    case RunProblemKind::killed: return "the command " + describe_end(p.wait_status);
    case RunProblemKind::recorder_error: return "the recording ended with " + p.stop_reason;
    case RunProblemKind::incomplete:
      return "the recording is incomplete (" + join(p.incomplete_reasons, "; ") + "): more capabilities may be needed";
    case RunProblemKind::denied_failure:
      return cap_name(p.cap) + " denied: " + (p.syscalls.empty() ? std::string("the operation") : join(p.syscalls, "/")) +
             " failed (EPERM/EACCES)" + (p.failed > 1 ? " x" + std::to_string(p.failed) : "");
  }
  return to_string(p.kind);
}

std::string run_end_text(const RunEnd& e) {
  const std::string who = e.run.empty() ? "" : e.run + ": ";
  switch (e.kind) {
    case RunEndKind::not_started: return who + "did not start";
    case RunEndKind::exited_zero: return who + "the command exited 0";
    case RunEndKind::failed: return who + "the command " + describe_end(e.wait_status);
    case RunEndKind::stopped: return who + "recording stopped: " + e.stop_reason;
  }
  return who;
}

}  // namespace capaudit::analyze
