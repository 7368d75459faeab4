#include "record/recorder.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "record/attach/bpf_session.h"
#include "record/drain/drain.h"
#include "record/drain/event_sink.h"
#include "record/finish/finish.h"
#include "record/host/launch.h"
#include "record/plan/plan.h"
#include "record/start/start.h"

namespace capaudit::record {
namespace {

// DESIGN: never fall back silently. A first-choice hook is the normal case and
// stays quiet unless -v; any fallback is said on stderr with each reason.
void report_hook_choice(const std::vector<common::HookAttempt>& attempts, bool verbose) {
  bool fell_back = false;
  std::string used = "none";
  std::string skipped;
  for (const auto& a : attempts) {
    if (a.used) {
      used = common::to_string(a.hook);
      break;
    }
    fell_back = true;
    skipped += std::string(skipped.empty() ? "" : "; ") + common::to_string(a.hook) + " skipped: " + a.reason;
  }
  if (!fell_back && !verbose) return;
  fprintf(stderr, "capaudit-record: hook %s%s%s%s\n", used.c_str(), skipped.empty() ? "" : " (",
          skipped.c_str(), skipped.empty() ? "" : ")");
}

// Like a hook fallback, a facts fallback is said: it costs the whole host.
void report_facts_choice(const BpfSession& bpf, const RecordPlan& plan) {
  if (plan.options.verbose || (plan.bpf.facts == FactsChoice::automatic &&
                               bpf.facts_source() != common::FactsSource::cgroup_hooks)) {
    fprintf(stderr, "capaudit-record: bind/socket facts from %s; denied-syscall outcomes %s: %s\n",
            bpf.facts_reason().c_str(), common::to_string(bpf.outcome_tracking()),
            outcome_reason(bpf, plan.options.stacks_per_key).c_str());
  }
}

}  // namespace

uint64_t total_events(const common::EventCounts& c) {
  return c.cap_checks + c.forks + c.execs + c.exits + c.outcomes + c.capsets + c.operations;
}

uint64_t total_lost(const common::Losses& l) {
  return l.ringbuf_drops + l.task_map_full + l.stack_map_full + l.outcomes_missed + l.decode_errors + l.hook_misses;
}

int exit_code_for(const RecordResult& result) {
  if (result.failure) return result.failure->exit_code;
  if (!result.target_status) return 0;
  int st = *result.target_status;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 0;
}

// plan -> open (probe, load, attach) -> start -> drain -> finish. The stages
// before the drain fail as common::Error (nothing recorded yet); from the
// drain on a failure ends the trace as far as the file allows and comes back
// in RecordResult::failure.
RecordResult run_recording(const RecordOptions& given) {
  RecordPlan plan = plan_recording(given).or_throw();
  const RecordOptions& options = plan.options;
  std::unique_ptr<BpfSession> bpf = BpfSession::open(plan.bpf).or_throw();
  report_hook_choice(bpf->attempts(), options.verbose);
  report_facts_choice(*bpf, plan);

  StartedRecording started = start_recording(plan, *bpf).or_throw();
  common::TraceWriter& writer = *started.writer;
  Launcher* child = started.child.get();
  EventSink sink(options, *bpf, writer, started.syms, started.keep);
  if (started.split)
    started.split->set_running_trailer([&sink, &bpf]() {
      sink.fill_losses(bpf->read_counters(), bpf->hook_misses());
      common::Trailer t;
      t.end_time_ns = clock_ns(CLOCK_BOOTTIME);
      t.losses = sink.losses();
      t.outcome_windows = sink.windows();
      t.outcome_windows_ns = sink.windows_ns();
      return t;
    });
  std::unique_ptr<RingDrain> ring = RingDrain::open(bpf->ringbuf_fd(), sink).or_throw();
  // Alive until the trace is finished: SIGINT/SIGTERM go to the command and
  // end the recording, never the recorder itself.
  SignalForwarder signals(child ? child->pid() : 0);
  StatusLine status(options);
  if (options.pid) sink.note_live(static_cast<uint32_t>(*options.pid));

  DrainEnd end = drain_until_end({options, *bpf, writer, child, sink, *ring, status});
  return finish_recording({options, *bpf, writer, child, sink, *ring, status}, std::move(end));
}

}  // namespace capaudit::record
