// Stage 5: the recording ends, on every path. The command still running is
// left alone, or ended (--on-end); the last events are drained (those still
// in the ring buffer, then the checks the kernel side still holds in its
// per-task batches, after every program is detached); the losses are counted;
// the trace gets its trailer, or, when the recording failed, whatever the file
// can still take (the last complete batch and a trailer marking it incomplete).
#pragma once

#include "common/trace_io.h"
#include "record/attach/bpf_session.h"
#include "record/drain/drain.h"
#include "record/drain/event_sink.h"
#include "record/host/launch.h"
#include "record/recorder.h"

namespace capaudit::record {

struct FinishInputs {
  const RecordOptions& options;
  BpfSession& bpf;
  common::TraceWriter& writer;
  Launcher* child;  // -- CMD; else null
  EventSink& sink;
  RingDrain& ring;
  StatusLine& status;
};

RecordResult finish_recording(const FinishInputs& in, DrainEnd end);

}  // namespace capaudit::record
