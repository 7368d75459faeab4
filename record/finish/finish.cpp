#include "record/finish/finish.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "common/log.h"

namespace capaudit::record {
namespace {

// What -v says at the end about the kernel side's sampling and the user frames.
void report_sampling(const RecordOptions& options, const BpfCounters& counters, const ResolveStats& u) {
  if (uint64_t rebuilt = counters[CAPAUDIT_CNT_SYNTHESIZED]; rebuilt && options.verbose)
    fprintf(stderr, "capaudit-record: %llu checks rebuilt at callers that inline cap_capable\n",
            static_cast<unsigned long long>(rebuilt));
  if (options.verbose && options.stacks_per_key)
    fprintf(stderr,
            "capaudit-record: call paths past the stack budget: %llu new (stack taken), %llu not taken (%u paths "
            "per key reached), %llu not compared (walk rate limit); %llu short walks\n",
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_NEW_PATHS]),
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATHS_FULL]), options.paths_per_key,
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATHS_UNCHECKED]),
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATH_WALKS]));
  if (options.verbose && (u.by_kernel + u.by_maps + u.address_only))
    fprintf(stderr,
            "capaudit-record: user frames named by the kernel's build ID: %llu, by /proc/PID/maps: %llu, "
            "by address only: %llu; words at [sp] in an executable file mapping: %llu, elsewhere: %llu\n",
            static_cast<unsigned long long>(u.by_kernel), static_cast<unsigned long long>(u.by_maps),
            static_cast<unsigned long long>(u.address_only), static_cast<unsigned long long>(u.leaves_named),
            static_cast<unsigned long long>(u.leaves_unnamed));
}

// Drains what is left: the ring buffer, then (every program detached) the
// checks still batched in the kernel. The target may still run (detached,
// -p, --cgroup): its events after this point are not recorded, and the
// trailer says why.
void drain_the_rest(const FinishInputs& in, DrainEnd& end) {
  std::optional<common::Failure> write_failure;  // the trace could not take an event
  if (!in.ring.failed()) {
    // The denials still queued may still keep the window open.
    if (auto r = in.ring.consume(); !r) write_failure = r.error();
    else in.sink.maybe_close_window(clock_ns(CLOCK_BOOTTIME), true);
  }
  if (auto r = in.bpf.stop_and_drain(); !r) {
    common::log(common::LogLevel::warn,
                r.error().message + ": checks made since the traced tasks last left their CPU are missing");
    if (end.stop_reason.rfind("error", 0) != 0) end.stop_reason = "error: " + r.error().message;
  }
  if (!in.ring.failed())
    if (auto r = in.ring.consume(); !r) write_failure = r.error();
  if (!end.failure && write_failure) {
    end.stop_reason = "error: " + write_failure->message;
    end.failure = std::move(write_failure);
  }
}

}  // namespace

RecordResult finish_recording(const FinishInputs& in, DrainEnd end) {
  const RecordOptions& options = in.options;
  Launcher* child = in.child;
  RecordResult result;

  // The recording ended with the command still running (--duration, a
  // second signal, --grace run out): --on-end says what becomes of it. A
  // recorder failure never touches it.
  if (child && end.released && !end.child_reaped && !child->try_wait() && !end.failure &&
      options.on_end != EndAction::detach) {
    child->signal(SIGKILL);
    end.stop_reason += "; the command was killed (--on-end)";
    // Its exit is still recorded: the programs are attached until it is gone.
    for (int i = 0; i < 200 && !child->try_wait(); ++i) usleep(10'000);
  }

  drain_the_rest(in, end);
  const BpfCounters counters = in.bpf.read_counters();
  in.sink.fill_losses(counters, in.bpf.hook_misses());
  report_sampling(options, counters, in.sink.user_frame_stats());
  if (child && !end.child_reaped) {
    if (auto st = child->try_wait()) end.target_status = *st;
  }
  in.status.end();
  result.stop_reason = std::move(end.stop_reason);
  result.target_status = end.target_status;
  std::optional<common::Failure> failure = std::move(end.failure);
  std::vector<std::string> notes;
  const bool detached = child && end.released && !result.target_status;
  if (detached) result.stop_reason += "; the command kept running (detached)";

  common::Trailer trailer;
  trailer.end_time_ns = clock_ns(CLOCK_BOOTTIME);
  trailer.target_exit_status = result.target_status;
  trailer.counts = in.sink.counts();
  trailer.losses = in.sink.losses();
  if (in.bpf.outcome_tracking() == common::OutcomeTracking::from_first_denial ||
      in.bpf.outcome_tracking() == common::OutcomeTracking::in_windows)
    trailer.outcomes_from_ns = in.bpf.outcomes_from_ns();  // in_windows: the first window's (what a 1.5 reader knows)
  trailer.outcome_windows = in.sink.windows();
  trailer.outcome_windows_ns = in.sink.windows_ns();
  trailer.max_size_reached = end.max_size_reached;
  if (!failure) {
    trailer.clean_shutdown = result.stop_reason.rfind("error", 0) != 0;
    trailer.stop_reason = result.stop_reason;
    try {
      in.writer.finish(trailer);
    } catch (const common::Error& e) {
      result.stop_reason = std::string("error: ") + e.what() + (detached ? "; the command kept running (detached)" : "");
      failure = common::Failure::from(e);
    }
  }
  if (detached) {
    const std::string pid = std::to_string(child->pid());
    notes.push_back(failure ? "the command keeps running, untraced (pid " + pid + "): a failed recording never stops it"
                            : "the recording ended (" + result.stop_reason.substr(0, result.stop_reason.find(';')) +
                                  ") before the command: it runs on, untraced (pid " + pid +
                                  "); --on-end term or kill ends it instead");
  }
  if (failure) {
    // Whatever the file can still take: the batch that failed is dropped, a
    // regular file is cut back to its last complete frame, and a trailer
    // saying the recording failed is tried there.
    trailer.clean_shutdown = false;
    trailer.stop_reason = result.stop_reason;
    if (auto done = in.writer.finish_incomplete(trailer); !done)
      notes.push_back("the trace has no trailer (" + done.error().message +
                      "): it reads as truncated after its last complete batch");
    else
      notes.push_back("the trace ends at its last complete batch, with a trailer marking it incomplete");
  }
  for (const auto& n : notes)
    if (!failure) fprintf(stderr, "capaudit-record: %s\n", n.c_str());
  result.counts = in.sink.counts();
  result.losses = in.sink.losses();
  result.bytes_written = in.writer.bytes_written();
  if (failure) {
    result.failure = RecordFailure{failure->message, failure->hint, failure->exit_code == 0 ? 1 : failure->exit_code,
                                   std::move(notes)};
  }
  return result;
}

}  // namespace capaudit::record
