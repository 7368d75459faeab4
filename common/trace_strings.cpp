#include "common/trace_io.h"

namespace capaudit::common {

const char* to_string(ReadStatus s) {
  switch (s) {
    case ReadStatus::complete: return "complete";
    case ReadStatus::truncated: return "truncated";
    case ReadStatus::corrupt: return "corrupt";
    case ReadStatus::error: return "error";
  }
  return "unknown";
}

const char* to_string(Hook h) {
  switch (h) {
    case Hook::tp_btf: return "tp_btf";
    case Hook::fexit: return "fexit";
    case Hook::kprobe: return "kprobe";
    case Hook::unknown: break;
  }
  return "unknown";
}

const char* to_string(TargetMode m) {
  switch (m) {
    case TargetMode::command: return "command";
    case TargetMode::pid: return "pid";
    case TargetMode::cgroup: return "cgroup";
    case TargetMode::unknown: break;
  }
  return "unknown";
}

const char* to_string(FactsSource f) {
  switch (f) {
    case FactsSource::sys_exit: return "sys_exit";
    case FactsSource::cgroup_hooks: return "cgroup_hooks";
    case FactsSource::none: return "none";
  }
  return "unknown";
}

const char* to_string(OutcomeTracking t) {
  switch (t) {
    case OutcomeTracking::from_start: return "from_start";
    case OutcomeTracking::from_first_denial: return "from_first_denial";
    case OutcomeTracking::off: return "off";
    case OutcomeTracking::in_windows: return "in_windows";
  }
  return "unknown";
}

const char* to_string(OutcomeMechanism m) {
  switch (m) {
    case OutcomeMechanism::sys_exit: return "sys_exit";
    case OutcomeMechanism::none: return "none";
  }
  return "unknown";
}

const char* to_string(WindowEnd e) {
  switch (e) {
    case WindowEnd::open: return "open";
    case WindowEnd::quiet: return "quiet";
    case WindowEnd::recording_end: return "recording_end";
  }
  return "unknown";
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::bind: return "bind";
    case OpKind::socket: return "socket";
    case OpKind::ptrace_attach: return "ptrace_attach";
    case OpKind::perf_event_open: return "perf_event_open";
    case OpKind::bpf: return "bpf";
    case OpKind::io_uring_setup: return "io_uring_setup";
    case OpKind::userfaultfd: return "userfaultfd";
    case OpKind::unshare_userns: return "unshare_userns";
    case OpKind::mmap_low: return "mmap_low";
    case OpKind::link: return "link";
    case OpKind::set_pipe_size: return "set_pipe_size";
    case OpKind::mq_open: return "mq_open";
    case OpKind::mlock: return "mlock";
    case OpKind::sched_setscheduler: return "sched_setscheduler";
    case OpKind::setrlimit: return "setrlimit";
    case OpKind::syslog: return "syslog";
    case OpKind::open_sensitive: return "open_sensitive";
    case OpKind::cap_check: return "cap_check";
    case OpKind::setpriority: return "setpriority";
    case OpKind::unknown: break;
  }
  return "unknown";
}

}  // namespace capaudit::common
