// One recording session: probe and attach the BPF side, start or find the
// target, drain the ring buffer into the trace, finish the trace on every path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/trace.h"
#include "record/bpf_session.h"

namespace capaudit::record {

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
  uint64_t ringbuf_bytes = 16ull << 20;
  uint64_t duration_ms = 0;           // 0 = until the target ends / a signal
  bool verbose = false;
  bool status_line = true;            // shown on a terminal, or on a pipe with verbose
  std::vector<std::string> argv;      // the recorder's own command line, for the header
};

struct RecordResult {
  std::string stop_reason;
  std::optional<int> target_status;  // raw wait status of CMD
  common::EventCounts counts;
  common::Losses losses;
  uint64_t bytes_written = 0;  // size of the trace
};

uint64_t total_events(const common::EventCounts& c);
uint64_t total_lost(const common::Losses& l);  // events that should be in the trace and are not

// Runs a recording to completion. Throws common::Error for fatal problems
// (bad options, missing privileges, no hook); once the trace file exists it is
// always finished with a trailer, even when an error ends the recording.
RecordResult run_recording(const RecordOptions& options);

// Exit code for a finished recording: the target's own code in command mode
// (like time(1) or strace), 0 otherwise.
int exit_code_for(const RecordResult& result);

}  // namespace capaudit::record
