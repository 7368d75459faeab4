#include "record/start/start.h"

#include <linux/capability.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.h"
#include "common/log.h"
#include "record/host/container.h"
#include "record/host/context.h"
#include "record/host/proc_scan.h"

namespace capaudit::record {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string outcome_reason(const BpfSession& bpf, uint32_t stacks_per_key) {
  switch (bpf.outcome_tracking()) {
    case common::OutcomeTracking::off: return "--outcomes off";
    case common::OutcomeTracking::from_start:
      return bpf.facts_source() == common::FactsSource::sys_exit
                 ? "syscall-exit tracepoint from the start: it carries the bind/socket facts"
                 : "syscall-exit tracepoint from the start (--outcomes all, the default with --user/--caps/--service)";
    case common::OutcomeTracking::from_first_denial:
    case common::OutcomeTracking::in_windows: break;
  }
  std::string why = bpf.outcome_tracking() == common::OutcomeTracking::in_windows
                        ? "syscall-exit tracepoint in windows: attached on a denied check that can matter, detached "
                          "again after a quiet time without one (--outcome-window); no denial with CAP_OPT_NOAUDIT"
                        : "syscall-exit tracepoint from the first denied check that can matter: none with CAP_OPT_NOAUDIT";
  why += bpf.opts_available() ? "" : " (this hook gives no opts)";
  why += stacks_per_key ? ", none on a call path of the noise catalogue (a check without a stack counts as "
                          "its thread's stacked checks of the same capability and syscall did)"
                        : "; --stacks-per-key 0: call paths unknown, so any other denial starts it";
  return why;
}

namespace {

common::Header make_header(const RecordOptions& options, const BpfSession& bpf) {
  common::Header h;
  h.recorder_version = CAPAUDIT_VERSION;
  h.recorder_argv = options.argv;
  if (!options.command.empty()) {
    h.target_mode = common::TargetMode::command;
    for (const auto& a : options.command) h.target += (h.target.empty() ? "" : " ") + a;
    if (!options.service.empty()) h.target += " (unit " + options.service + ")";
  } else if (options.pid) {
    h.target_mode = common::TargetMode::pid;
    h.target = std::to_string(*options.pid);
  } else {
    h.target_mode = common::TargetMode::cgroup;
    h.target = options.container.empty() ? options.cgroup : options.container + " in " + options.cgroup;
  }
  // host, kernel, clock and sysctl sections: fill_system_context()
  h.hook = bpf.hook();
  h.hook_attempts = bpf.attempts();
  h.opts_available = bpf.opts_available();
  h.facts_source = bpf.facts_source();
  h.facts_reason = bpf.facts_reason();
  h.link_facts = bpf.link_facts();
  h.link_facts_reason = bpf.link_facts_reason();
  h.cred_changes = true;  // bpf/cred.bpf.h check_cred() at every check, fork and exit
  h.outcome_tracking = bpf.outcome_tracking();
  h.outcome_mechanism =
      bpf.outcome_tracking() == common::OutcomeTracking::off ? common::OutcomeMechanism::none : common::OutcomeMechanism::sys_exit;
  h.outcome_reason = outcome_reason(bpf, options.stacks_per_key);
  if (bpf.outcome_tracking() == common::OutcomeTracking::in_windows)
    h.outcome_window_ns = options.outcome_window_ms * 1'000'000ull;
  h.stacks_per_key = options.stacks_per_key;
  if (options.stacks_per_key && options.paths_per_key) {
    h.paths_per_key = options.paths_per_key;
    h.path_frames = CAPAUDIT_PATH_FRAMES;
    h.path_free_checks = CAPAUDIT_FREE_WALKS;
  }
  // User stacks ride on the kernel stack budget: no budget, none.
  h.user_stacks = options.user_stacks && options.stacks_per_key > 0;
  h.user_stack_depth = h.user_stacks ? CAPAUDIT_MAX_USTACK_DEPTH : 0;
  h.ringbuf_bytes = bpf.ringbuf_bytes();
  return h;
}

}  // namespace

common::Result<StartedRecording> start_recording(RecordPlan& plan, BpfSession& bpf) try {
  const RecordOptions& options = plan.options;
  StartedRecording started;
  // After loading, so our own programs have symbols and can be told apart;
  // while privileged, as without CAP_SYSLOG kallsyms shows only zeros.
  started.syms = KernelSymbols::load();
  // Created only once the BPF side works, so a failed start leaves no file behind.
  common::OutputOptions out_opts;
  apply_invoking_user(out_opts);
  if (options.split_bytes || options.split_ms) {
    auto w = std::make_unique<SplitWriter>(options.output, out_opts,
                                           SplitOptions{options.split_bytes, options.split_ms * 1'000'000ull});
    started.split = w.get();
    started.writer = std::move(w);
  } else {
    started.writer = common::TraceWriter::create(options.output, out_opts);
  }

  if (!options.command.empty()) {
    // -o -: stdout carries the trace, so the command's output goes to stderr.
    plan.launch.stdout_to_stderr = options.output == "-";
    auto child = Launcher::start(plan.launch);
    if (!child) return child.error();
    started.child = std::move(*child);
    if (auto r = bpf.expect_exec(started.child->pid()); !r) return r.error();
  } else if (options.pid) {
    if (auto r = bpf.mark_processes(plan.tree); !r) return r.error();
  } else {
    if (auto r = bpf.mark_cgroup_members(); !r) return r.error();
  }

  // The context snapshot enters the target's netns and mounts securityfs
  // privately: take it before the capabilities go.
  pid_t context_pid = started.child ? started.child->pid() : options.pid ? *options.pid : getpid();
  common::Header header = make_header(options, bpf);
  for (const auto& warning : fill_system_context(header, context_pid))
    if (options.verbose) fprintf(stderr, "capaudit-record: context: %s\n", warning.c_str());

  // Processes already running (-p, --cgroup): their image and credentials
  // from /proc, while privileged (/proc/PID/exe of another uid's process, a
  // worker that dropped to nobody, needs CAP_SYS_PTRACE). After marking them,
  // so a fork between the two is a fork event rather than a gap.
  std::vector<common::ProcessInfo> running;
  // The containers under the cgroup, named while podman still answers a root
  // without capabilities as root.
  if (!options.cgroup.empty()) header.containers = containers_under(options.cgroup);
  if (options.pid) {
    running = read_processes(std::vector<uint32_t>(plan.tree.begin(), plan.tree.end()));
  } else if (!options.cgroup.empty()) {
    if (auto members = cgroup_processes(options.cgroup, true)) running = read_processes(*members);
    else common::log(common::LogLevel::warn, "cgroup members: " + members.error().message);
  }

  // Attached, output open, target held: from here on the recorder needs
  // (almost) nothing, so it keeps (almost) nothing.
  KeepAfterAttach& keep = started.keep;
  keep.signal_other_uid = plan.launch.user.has_value() && plan.launch.user->uid != 0;
  keep.bpf_map_access = read_first_line("/proc/sys/kernel/unprivileged_bpf_disabled") != "0";
  // Split output creates its later pieces after the drop: beside the first,
  // in a directory that may be the invoking user's (DAC_OVERRIDE), owned by
  // that user under sudo (CHOWN).
  if (started.split) keep.extra |= (1ull << CAP_DAC_OVERRIDE) | (out_opts.owner_uid >= 0 ? (1ull << CAP_CHOWN) : 0);
  // in_windows re-attaches on every window: CAP_BPF stays for the recording.
  keep.attach_later = bpf.outcome_tracking() == common::OutcomeTracking::from_first_denial ||
                      bpf.outcome_tracking() == common::OutcomeTracking::in_windows;
  if (auto r = drop_after_attach(keep); !r) return common::fail("dropping capabilities failed: " + r.error().message);

  started.writer->write_header(header);
  if (!running.empty()) started.writer->write_processes(running);
  return started;
} catch (const common::Error& e) {
  return common::Failure::from(e);
}

}  // namespace capaudit::record
