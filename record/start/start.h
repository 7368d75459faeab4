// Between opening the BPF side and draining: the recording starts. The
// kernel's symbols are read and the output created (only now that the BPF
// side works, so a refused start leaves no file behind); the command is
// forked and held before exec, or the running processes (-p) or the cgroup's
// members are marked; the system context and the running processes are
// snapshotted while privileged; then every capability the recorder no longer
// needs is dropped and the trace's header is written.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/trace.h"
#include "common/trace_io.h"
#include "record/attach/bpf_session.h"
#include "record/drain/kernel_stacks.h"
#include "record/host/launch.h"
#include "record/plan/plan.h"
#include "record/host/privileges.h"
#include "record/start/split_writer.h"

namespace capaudit::record {

struct StartedRecording {
  KernelSymbols syms;
  std::unique_ptr<common::TraceWriter> writer;
  SplitWriter* split = nullptr;       // the writer, when it writes numbered pieces
  std::unique_ptr<Launcher> child;    // -- CMD: forked, held before exec
  KeepAfterAttach keep;               // what the recorder kept after the drop
};

// PLAN's target started (or marked) under BPF, the trace's header written.
common::Result<StartedRecording> start_recording(RecordPlan& plan, BpfSession& bpf);

// What starts the syscall-exit tracepoint for outcomes, in the trace's words.
std::string outcome_reason(const BpfSession& bpf, uint32_t stacks_per_key);

}  // namespace capaudit::record
