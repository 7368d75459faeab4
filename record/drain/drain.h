// Stage 4: the recording runs. The ring buffer is drained into the trace
// until the target ends, a signal comes, --duration or --max-size is reached,
// or something fails.
//
// libbpf calls RingDrain's callback once per ring-buffer record, as C code
// that holds the record's space in the buffer until it returns: the callback
// only decodes the record and queues its events (copying the kernel stack out
// of the buffer). The queue goes to the EventSink after the poll or consume
// returns, in order, so the file I/O of enrichment (exec paths, file caps,
// cgroup names, user-stack mappings) never holds up the kernel side, and a
// failure to write the trace is an ordinary error rather than one that must
// not cross C code.
#pragma once

#include <time.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/trace_io.h"
#include "record/attach/bpf_session.h"
#include "record/drain/event_sink.h"
#include "record/drain/event_decode.h"
#include "record/host/launch.h"
#include "record/recorder.h"

struct ring_buffer;

namespace capaudit::record {

class RingDrain {
 public:
  // Fails when the ring buffer cannot be opened.
  static common::Result<std::unique_ptr<RingDrain>> open(int ringbuf_fd, EventSink& sink);
  ~RingDrain();
  RingDrain(const RingDrain&) = delete;
  RingDrain& operator=(const RingDrain&) = delete;

  // Waits up to TIMEOUT_MS for records, takes every one there is and hands
  // their events to the sink. Fails when the poll fails (an interrupted one
  // is no failure) or the sink cannot write the trace.
  common::Result<> poll(int timeout_ms);
  // Takes every record there is now, without waiting.
  common::Result<> consume();
  // The sink failed once: every record since is left in the ring buffer.
  bool failed() const { return failure_.has_value(); }

  // Events queued before the callback asks libbpf to stop and let the sink
  // catch up (bounds the queue's memory when the kernel side writes faster
  // than one consume can end).
  static constexpr size_t kMaxQueued = 16384;

 private:
  explicit RingDrain(EventSink& sink) : sink_(sink) {}
  static int on_record(void* ctx, void* data, size_t size);
  // The queue to the sink, in order.
  common::Result<> hand_off();

  struct Queued {
    DecodedEvent event;
    std::vector<uint64_t> stack;  // DecodedCheck::stack's frames, out of the ring buffer
  };
  EventSink& sink_;
  ring_buffer* rb_ = nullptr;
  std::vector<Queued> queue_;
  uint64_t decode_errors_ = 0;              // not yet handed to the sink
  std::exception_ptr callback_exception_;   // thrown in the callback (out of memory), rethrown by hand_off
  std::optional<common::Failure> failure_;
};

// The status line: on a terminal one line rewritten in place; with -v on a
// pipe too, a line a second, so a log shows progress and losses as they happen.
class StatusLine {
 public:
  explicit StatusLine(const RecordOptions& options);
  bool shown() const { return show_; }
  // At most once a second (NOW, START: CLOCK_MONOTONIC).
  void maybe_print(uint64_t now, uint64_t start, EventSink& sink, BpfSession& bpf);
  // Ends the rewritten line on a terminal.
  void end();

 private:
  bool tty_ = false;
  bool show_ = false;
  uint64_t last_ns_ = 0;
};

// What the drain loop leaves to finish.
struct DrainEnd {
  std::string stop_reason;            // "target exited", "duration", "SIGINT", "error: ..."
  std::optional<int> target_status;   // -- CMD: its raw wait status, when it was reaped
  bool child_reaped = false;
  bool released = false;              // -- CMD: let go to exec, and detached from the recorder
  bool max_size_reached = false;
  std::optional<common::Failure> failure;  // the recording failed after it started
};

struct DrainInputs {
  const RecordOptions& options;
  BpfSession& bpf;
  common::TraceWriter& writer;
  Launcher* child;  // -- CMD: held before exec until now; else null
  EventSink& sink;
  RingDrain& ring;
  StatusLine& status;
};

// Lets the command go (-- CMD) and drains until the recording ends.
DrainEnd drain_until_end(const DrainInputs& in);

// CLOCK_MONOTONIC / CLOCK_BOOTTIME etc. in nanoseconds.
uint64_t clock_ns(clockid_t id);

// "none" or the number of events lost.
std::string describe_losses(const common::Losses& l);

}  // namespace capaudit::record
