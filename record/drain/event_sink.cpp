#include "record/drain/event_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/log.h"

namespace capaudit::record {
namespace {

// Gone, or a zombie nobody reaped yet (-p targets are not our children):
// either way it will make no more capability checks.
bool process_ended(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return true;
  char state = stat[close + 2];
  return state == 'Z' || state == 'X';
}

}  // namespace

EventSink::EventSink(const RecordOptions& options, BpfSession& bpf, common::TraceWriter& writer, const KernelSymbols& syms,
                     const KeepAfterAttach& keep)
      : options_(options), bpf_(bpf), writer_(writer), stacks_(syms), keep_(keep), advisory_(syms),
        user_resolver_(proc_files_) {
    // The libraries the recorder maps itself (libc, ld.so, ...) are the
    // host's: path hints for short-lived processes' frames in them.
    if (options_.user_stacks) {
      if (auto own = proc_files_.maps(static_cast<uint32_t>(getpid())))
        for (const auto& m : *own)
          if (m.executable) user_resolver_.note_file(proc_files_.build_id(static_cast<uint32_t>(getpid()), m), m.path);
    }
  }


void EventSink::add(DecodedEvent& event) {
  std::visit([this](auto& e) { this->add(e); }, event);
}

void EventSink::add(DecodedCheck& d) {
  if (!d.stack.empty()) {
    bool is_new = false;
    d.check.stack_id = stacks_.intern(d.stack, &scratch_stack_, &is_new);
    if (is_new) {
      writer_.add(scratch_stack_);
      ++counts_.stacks;
    }
  }
  if (d.unsampled) ++losses_.stacks_unsampled;
  if (d.user_stack) {
    // Named now, while the process (and its /proc/PID/maps) may still live.
    scratch_user_stack_.frames = user_resolver_.resolve(d.check.pid, *d.user_stack);
    scratch_user_stack_.leaf = user_resolver_.resolve_leaf(d.check.pid, *d.user_stack, scratch_user_stack_.frames);
    if (!scratch_user_stack_.frames.empty()) {
      bool is_new = false;
      d.check.user_stack_id = user_stacks_.intern(scratch_user_stack_.frames, scratch_user_stack_.leaf, &is_new);
      if (is_new) {
        scratch_user_stack_.id = d.check.user_stack_id;
        writer_.add(scratch_user_stack_);
        ++counts_.user_stacks;
      }
    }
  }
  caps_seen_ |= d.check.cap >= 0 && d.check.cap < 64 ? (1ull << d.check.cap) : 0;
  writer_.add(d.check);
  ++counts_.cap_checks;
  if (d.context) {
    // The fact ids the credentials the kernel checked at this moment; a
    // change before the check was reported ahead of it (capset events).
    d.context->stack_id = d.check.stack_id;
    add(*d.context);
  }
  // A denial that cannot matter never switches the host-wide syscall exit on.
  if (!d.check.granted && !advisory_.is_advisory(d, bpf_.opts_available())) on_denial(d.check);
}

// A denied check that can matter: opens an outcome window (this denial's
// syscall has long returned: the ones after it get their outcome) or keeps
// the open one open. The capabilities kept for this attach go when no
// later one can come (from_first_denial: the window never closes).
void EventSink::on_denial(const common::CapCheck& c) {
  const auto mode = bpf_.outcome_tracking();
  if (mode != common::OutcomeTracking::from_first_denial && mode != common::OutcomeTracking::in_windows) return;
  last_denial_ns_ = std::max(last_denial_ns_, c.time_ns);
  if (bpf_.outcomes_live()) {
    if (c.time_ns >= window_.start_ns) ++window_.denials;
    return;
  }
  if (outcome_start_failed_) return;
  const auto opened = bpf_.open_outcome_window();
  if (!opened) {
    outcome_start_failed_ = true;
    common::log(common::LogLevel::warn, "denied-syscall outcomes will not be recorded: " + opened.error().message);
    return;
  }
  const uint64_t start = *opened;
  window_ = common::OutcomeWindow{start, 0, c.time_ns, c.pid, c.tid, c.cap, c.syscall_nr, common::WindowEnd::open, 0};
  writer_.add(window_);
  ++windows_;
  if (options_.verbose)
    fprintf(stderr, "capaudit-record: denied check seen (tid %u, capability %d): tracking denied-syscall outcomes%s\n",
            c.tid, c.cap, mode == common::OutcomeTracking::in_windows ? " until a quiet window" : " from now on");
  if (keep_.attach_later && mode == common::OutcomeTracking::from_first_denial) {
    keep_.attach_later = false;
    if (auto r = drop_after_attach(keep_); !r)
      common::log(common::LogLevel::warn,
                  "dropping the capabilities kept for a later attach failed: " + r.error().message);
  }
}

// in_windows: closes the open window once no denial that can matter came
// for the window length (now: BOOTTIME), or at the end of the recording.
void EventSink::maybe_close_window(uint64_t now, bool recording_end) {
  if (!bpf_.outcomes_live() || bpf_.outcome_tracking() != common::OutcomeTracking::in_windows) return;
  const uint64_t quiet_since = std::max(last_denial_ns_, window_.start_ns);
  if (!recording_end && now < quiet_since + options_.outcome_window_ms * 1'000'000ull) return;
  const uint64_t end = bpf_.close_outcome_window();
  if (!end) return;
  window_.end_ns = end;
  window_.closed_by = recording_end ? common::WindowEnd::recording_end : common::WindowEnd::quiet;
  windows_ns_ += end - window_.start_ns;
  writer_.add(window_);
  if (options_.verbose)
    fprintf(stderr, "capaudit-record: outcome window closed after %.3f s (%llu denials in it)\n",
            (end - window_.start_ns) / 1e9, static_cast<unsigned long long>(window_.denials));
}

void EventSink::add(common::ForkEvent& e) {
  if (!e.is_thread) live_.insert(e.child_pid);
  writer_.add(e);
  ++counts_.forks;
}

void EventSink::add(common::ExecEvent& e) {
  enricher_.enrich(e);
  if (options_.user_stacks && !e.filename.empty() && e.filename[0] == '/') {
    // A path hint for frames the kernel names by this build ID once the
    // process is gone (keyed by the ID, so a replaced file never lends its path).
    int fd = ::open(e.filename.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
      user_resolver_.note_file(read_build_id(fd), e.filename);
      ::close(fd);
    }
  }
  live_.insert(e.pid);
  user_resolver_.forget(e.pid);  // a new image: its mappings are new
  writer_.add(e);
  ++counts_.execs;
}

void EventSink::add(common::ExitEvent& e) {
  advisory_.forget(e.tid);
  if (e.group_dead) {
    live_.erase(e.pid);
    user_resolver_.forget(e.pid);
  }
  writer_.add(e);
  ++counts_.exits;
}

void EventSink::add(common::SyscallOutcome& e) {
  writer_.add(e);
  ++counts_.outcomes;
}

void EventSink::add(common::CapsetEvent& e) {
  writer_.add(e);
  ++counts_.capsets;
}

void EventSink::add(common::OperationFact& e) {
  writer_.add(e);
  ++counts_.operations;
}

// Processes we saw start and not yet end; a lost exit must not keep the
// recorder waiting forever, so vanished pids are pruned.
bool EventSink::tree_alive() {
  for (auto it = live_.begin(); it != live_.end();) {
    if (process_ended(static_cast<pid_t>(*it))) it = live_.erase(it);
    else ++it;
  }
  return !live_.empty();
}

void EventSink::fill_losses(const BpfCounters& c, uint64_t hook_misses) {
  losses_.hook_misses = hook_misses;
  losses_.ringbuf_drops = c[CAPAUDIT_CNT_RINGBUF_DROPS];
  losses_.task_map_full = c[CAPAUDIT_CNT_TASK_MAP_FULL];
  losses_.untraced_processes = c[CAPAUDIT_CNT_TASK_MAP_FULL];
  losses_.stack_map_full = c[CAPAUDIT_CNT_STACK_FAIL];
  losses_.outcomes_missed = c[CAPAUDIT_CNT_OUTCOMES_MISSED];
  losses_.strings_truncated = c[CAPAUDIT_CNT_STR_TRUNCATED];
  losses_.user_stack_fail = c[CAPAUDIT_CNT_USTACK_FAIL];
  losses_.paths_full = c[CAPAUDIT_CNT_PATHS_FULL];
  losses_.paths_unchecked = c[CAPAUDIT_CNT_PATHS_UNCHECKED];
}

}  // namespace capaudit::record
