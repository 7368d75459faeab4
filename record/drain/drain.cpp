#include "record/drain/drain.h"

#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace capaudit::record {
namespace {

// What the callback returns to stop libbpf's consume when the queue is full
// (libbpf passes a negative return on as the poll's or consume's result).
constexpr int kQueueFull = -ENOBUFS;

}  // namespace

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string describe_losses(const common::Losses& l) {
  uint64_t total = total_lost(l);
  return total == 0 ? "none" : std::to_string(total);
}

// ---- RingDrain ----

common::Result<std::unique_ptr<RingDrain>> RingDrain::open(int ringbuf_fd, EventSink& sink) {
  std::unique_ptr<RingDrain> drain(new RingDrain(sink));
  drain->rb_ = ring_buffer__new(ringbuf_fd, &RingDrain::on_record, drain.get(), nullptr);
  if (!drain->rb_) return common::fail(common::errno_message("opening the ring buffer", errno));
  return drain;
}

RingDrain::~RingDrain() { ring_buffer__free(rb_); }

// Called by libbpf, C code an exception must not cross. Decodes and queues,
// nothing else: no I/O, nothing that can fail but memory.
int RingDrain::on_record(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingDrain*>(ctx);
  if (self->failure_ || self->callback_exception_) return 0;  // dropped: the trace cannot take them
  try {
    self->decode_errors_ += decode_record({static_cast<const uint8_t*>(data), size}, [self](DecodedEvent& decoded) {
      Queued& q = self->queue_.emplace_back(Queued{std::move(decoded), {}});
      if (auto* c = std::get_if<DecodedCheck>(&q.event)) {
        // The frames live in the ring buffer, which is the kernel's again
        // once this callback returns.
        q.stack.assign(c->stack.begin(), c->stack.end());
        c->stack = {};
      }
    });
  } catch (...) {
    self->callback_exception_ = std::current_exception();
    return -ENOMEM;
  }
  return self->queue_.size() >= kMaxQueued ? kQueueFull : 0;
}

common::Result<> RingDrain::hand_off() {
  if (callback_exception_) {
    queue_.clear();
    std::rethrow_exception(std::exchange(callback_exception_, nullptr));
  }
  if (failure_) {
    queue_.clear();
    return *failure_;
  }
  sink_.add_decode_errors(std::exchange(decode_errors_, 0));
  try {
    for (auto& q : queue_) {
      if (auto* c = std::get_if<DecodedCheck>(&q.event)) c->stack = q.stack;
      sink_.add(q.event);
    }
  } catch (const common::Error& e) {
    // Records after it are dropped; the recording ends as failed.
    failure_ = common::Failure::from(e);
  }
  queue_.clear();
  if (failure_) return *failure_;
  return {};
}

common::Result<> RingDrain::poll(int timeout_ms) {
  int n = ring_buffer__poll(rb_, timeout_ms);
  const int polled = n;
  while (n == kQueueFull) {
    if (auto r = hand_off(); !r) return r;
    n = ring_buffer__consume(rb_);
  }
  if (auto r = hand_off(); !r) return r;
  if (polled < 0 && polled != -EINTR && polled != kQueueFull)
    return common::fail("ring buffer poll failed: " + std::string(strerror(-polled)));
  return {};
}

common::Result<> RingDrain::consume() {
  int n;
  do {
    n = ring_buffer__consume(rb_);
    if (auto r = hand_off(); !r) return r;
  } while (n == kQueueFull);
  return {};
}

// ---- StatusLine ----

StatusLine::StatusLine(const RecordOptions& options)
    : tty_(isatty(STDERR_FILENO)), show_(options.status_line && (tty_ || options.verbose)) {}

void StatusLine::maybe_print(uint64_t now, uint64_t start, EventSink& sink, BpfSession& bpf) {
  if (!show_ || now - last_ns_ < 1'000'000'000ull) return;
  last_ns_ = now;
  sink.fill_losses(bpf.read_counters(), bpf.hook_misses());  // the losses as of this line
  const auto& c = sink.counts();
  fprintf(stderr, "%s[capaudit] %5.1fs  checks %llu  events %llu  capabilities %d  losses %s%s", tty_ ? "\r" : "",
          (now - start) / 1e9, static_cast<unsigned long long>(c.cap_checks),
          static_cast<unsigned long long>(total_events(c)), __builtin_popcountll(sink.caps_seen()),
          describe_losses(sink.losses()).c_str(), tty_ ? "   " : "\n");
}

void StatusLine::end() {
  if (show_ && tty_) fputs("\n", stderr);
}

// ---- the loop ----

DrainEnd drain_until_end(const DrainInputs& in) {
  const RecordOptions& options = in.options;
  Launcher* child = in.child;
  DrainEnd out;
  int signals_seen = 0;
  const uint64_t start_ns = clock_ns(CLOCK_MONOTONIC);
  const uint64_t grace_ns = options.grace_ms * 1'000'000ull;
  // Set once SIGINT/SIGTERM reached the command (passed on, or --on-end
  // term): the recording goes on until then for its exit to be recorded.
  uint64_t grace_until_ns = 0;
  auto failed = [&](common::Failure f) {
    out.stop_reason = "error: " + f.message;
    out.failure = std::move(f);
    return out;
  };

  if (child) {
    if (auto r = child->go(); !r) {
      out.target_status = child->try_wait();
      return failed(r.error());
    }
    // From its exec on the command is the user's program: nothing that
    // goes wrong in the recorder may take it down (docs: --on-end).
    child->detach();
    out.released = true;
  }
  try {
    for (;;) {
      // Events carry BPF_RB_NO_WAKEUP unless a backlog builds up, so the poll
      // mostly times out and the consume picks up the batch.
      if (auto r = in.ring.poll(100); !r) return failed(r.error());
      if (auto r = in.ring.consume(); !r) return failed(r.error());
      uint64_t now = clock_ns(CLOCK_MONOTONIC);
      in.sink.maybe_close_window(clock_ns(CLOCK_BOOTTIME), false);
      in.writer.flush_if_due(now);
      // Checked after each flush: the file ends at most one batch (a second
      // of events) and the trailer past the limit.
      if (options.max_size_bytes && in.writer.bytes_written() >= options.max_size_bytes) {
        out.stop_reason = "max-size";
        out.max_size_reached = true;
        break;
      }

      if (child && !out.child_reaped) {
        if (auto st = child->try_wait()) {
          out.child_reaped = true;
          out.target_status = *st;
        }
      }
      const bool command_running = child && !out.child_reaped;
      bool end = false;
      if (SignalForwarder::count() != signals_seen) {
        signals_seen = SignalForwarder::count();
        const char* name = SignalForwarder::last_signal() == SIGINT ? "SIGINT" : "SIGTERM";
        if (command_running && grace_until_ns == 0) {
          // Already passed on to the command: let it shut down, its exit is part of the trace.
          grace_until_ns = now + grace_ns;
          out.stop_reason = std::string(name) + " (forwarded to the target)";
        } else {
          if (out.stop_reason.empty() || grace_until_ns == 0) out.stop_reason = name;
          end = true;
        }
      }
      if (child && out.child_reaped && !in.sink.tree_alive()) {
        if (out.stop_reason.empty()) out.stop_reason = "target exited";
        break;
      }
      if (options.pid && !in.sink.tree_alive()) {
        out.stop_reason = "target exited";
        break;
      }
      if (grace_until_ns && now >= grace_until_ns) end = true;
      if (grace_until_ns == 0 && options.duration_ms && now - start_ns >= options.duration_ms * 1'000'000ull) {
        out.stop_reason = "duration";
        if (command_running && options.on_end == EndAction::term) {
          child->signal(SIGTERM);
          grace_until_ns = now + grace_ns;
          fprintf(stderr, "capaudit-record: --duration reached: SIGTERM sent to the command (pid %d), "
                  "recording up to %.3gs more (--grace) before SIGKILL\n", child->pid(), grace_ns / 1e9);
          end = grace_ns == 0;
        } else {
          end = true;
        }
      }
      if (end) break;
      in.status.maybe_print(now, start_ns, in.sink, in.bpf);
    }
  } catch (const common::Error& e) {
    return failed(common::Failure::from(e));
  }
  return out;
}

}  // namespace capaudit::record
