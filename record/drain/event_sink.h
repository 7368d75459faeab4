// Where the drain loop puts each decoded event: stacks interned and written
// once, user stacks named against the process's mappings, exec events
// enriched from the host (exec_enrich.h), counts and losses kept, and the
// outcome windows opened on a denial that can matter and closed after a quiet
// time. Runs on the drain loop, never inside libbpf's ring-buffer callback:
// it does file I/O and may throw.
#pragma once

#include <cstdint>
#include <set>

#include "common/trace.h"
#include "common/trace_io.h"
#include "record/drain/advisory.h"
#include "record/attach/bpf_session.h"
#include "record/drain/exec_enrich.h"
#include "record/drain/event_decode.h"
#include "record/drain/kernel_stacks.h"
#include "record/host/privileges.h"
#include "record/recorder.h"
#include "record/drain/user_stacks.h"

namespace capaudit::record {

class EventSink {
 public:
  EventSink(const RecordOptions& options, BpfSession& bpf, common::TraceWriter& writer, const KernelSymbols& syms,
            const KeepAfterAttach& keep);

  // One decoded event into the trace, in the order the ring buffer gave them.
  // Throws common::Error when the trace cannot be written.
  void add(DecodedEvent& event);
  void add_decode_errors(uint64_t n) { losses_.decode_errors += n; }

  // in_windows: closes the open window once no denial that can matter came
  // for the window length (now: BOOTTIME), or at the end of the recording.
  void maybe_close_window(uint64_t now, bool recording_end);

  // Processes we saw start and not yet end; a lost exit must not keep the
  // recorder waiting forever, so vanished pids are pruned.
  bool tree_alive();
  void note_live(uint32_t pid) { live_.insert(pid); }

  // The kernel side's loss counters into losses().
  void fill_losses(const BpfCounters& c, uint64_t hook_misses);

  const common::EventCounts& counts() const { return counts_; }
  const common::Losses& losses() const { return losses_; }
  uint64_t caps_seen() const { return caps_seen_; }      // bit N: capability N was checked
  uint64_t windows() const { return windows_; }          // outcome windows opened
  uint64_t windows_ns() const { return windows_ns_; }    // closed ones' total length
  const ResolveStats& user_frame_stats() const { return user_resolver_.stats(); }

 private:
  void add(DecodedCheck& d);
  void add(common::ForkEvent& e);
  void add(common::ExecEvent& e);
  void add(common::ExitEvent& e);
  void add(common::SyscallOutcome& e);
  void add(common::CapsetEvent& e);
  void add(common::OperationFact& e);
  void on_denial(const common::CapCheck& c);

  const RecordOptions& options_;
  BpfSession& bpf_;
  common::TraceWriter& writer_;
  common::EventCounts counts_;
  common::Losses losses_;
  uint64_t caps_seen_ = 0;
  std::set<uint32_t> live_;
  uint64_t windows_ = 0;
  uint64_t windows_ns_ = 0;
  StackTable stacks_;
  KeepAfterAttach keep_;
  AdvisoryDenials advisory_;
  bool outcome_start_failed_ = false;
  common::OutcomeWindow window_;  // the open (or last) outcome window
  uint64_t last_denial_ns_ = 0;   // the latest denial that can matter
  common::KernelStack scratch_stack_;
  ExecEnricher enricher_;
  ProcFiles proc_files_;
  UserStackResolver user_resolver_;
  UserStackTable user_stacks_;
  common::UserStack scratch_user_stack_;
};

}  // namespace capaudit::record
