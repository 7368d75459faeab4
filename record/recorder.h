// One recording session: probe and attach the BPF side, start or find the
// target, drain the ring buffer into the trace, finish the trace on every path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/trace.h"
#include "record/attach/bpf_session.h"

namespace capaudit::record {

// What happens to a command (-- CMD) still running when the recording ends
// before it does. A recorder failure always detaches.
enum class EndAction {
  detach,  // leave it running, untraced (default: the recorder never harms what it watches)
  term,    // SIGTERM, keep recording up to grace_ms for it to end, then SIGKILL
  kill,    // SIGKILL
};

struct RecordOptions {
  std::string output;                 // "-" = stdout
  std::vector<std::string> command;   // -- CMD ARGS
  std::optional<pid_t> pid;           // -p
  std::string cgroup;                 // --cgroup PATH (cgroup v2 directory)
  std::string container;              // --container NAME|ID (podman, docker): its cgroup
  std::string user;                   // --user (run CMD as)
  std::string caps;                   // --caps (run CMD with)
  std::string service;                // --service UNIT_FILE: start ExecStart= (or CMD) as systemd would
  HookChoice hook = HookChoice::automatic;
  std::optional<OutcomeMode> outcomes;  // default: all with --user/--caps/--service, else first_denial
  FactsChoice facts = FactsChoice::automatic;
  uint32_t stacks_per_key = 4;
  uint32_t paths_per_key = CAPAUDIT_PATH_SIGS;  // --paths-per-key: new call paths past the budget, per key
  bool user_stacks = true;            // --user-stacks sampled (default) | off
  uint64_t ringbuf_bytes = 16ull << 20;
  uint64_t duration_ms = 0;           // 0 = until the target ends / a signal
  EndAction on_end = EndAction::detach;
  uint64_t grace_ms = 3000;           // after SIGINT/SIGTERM reached the command
  uint64_t max_size_bytes = 0;        // 0 = no limit; else stop once the trace has reached this size
  // first_denial: detach the syscall-exit tracepoint after this long without a
  // denial that can matter (0: never, tracking runs to the end).
  uint64_t outcome_window_ms = 1000;
  // Write numbered pieces (trace.0001.cap, ...) of at most about this size /
  // this long each (0: no bound; both 0: one file).
  uint64_t split_bytes = 0;
  uint64_t split_ms = 0;
  bool verbose = false;
  bool status_line = true;            // shown on a terminal, or on a pipe with verbose
  std::vector<std::string> argv;      // the recorder's own command line, for the header
};

// A recording that started and then failed (the trace could not be written,
// the ring buffer broke, the command could not be executed).
struct RecordFailure {
  std::string message;
  std::string hint;
  int exit_code = 1;
  std::vector<std::string> notes;  // what became of the command and the trace
};

struct RecordResult {
  std::string stop_reason;
  std::optional<RecordFailure> failure;
  std::optional<int> target_status;  // raw wait status of CMD
  common::EventCounts counts;
  common::Losses losses;
  uint64_t bytes_written = 0;  // size of the trace
};

uint64_t total_events(const common::EventCounts& c);
uint64_t total_lost(const common::Losses& l);  // events that should be in the trace and are not

// Runs a recording to completion. Throws common::Error for problems before the
// recording starts (bad options, missing privileges, no hook). A failure after
// it started is returned in RecordResult::failure: the command is then left
// running (never signalled), and the trace is ended as far as the file
// allows (last complete batch, a trailer with clean_shutdown = false).
RecordResult run_recording(const RecordOptions& options);

// Exit code for a finished recording: the failure's code (1; 127 when the
// command could not be executed), else the target's own code in command mode
// (like time(1) or strace; 128+N for signal N), 0 otherwise.
int exit_code_for(const RecordResult& result);

}  // namespace capaudit::record
