// Trace writer and streaming reader. The contract used by record/ and analyze/.
// Encoding details (preamble, zstd frames, Cap'n Proto messages) live in the
// .cpp files and docs/trace-format.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/trace.h"

namespace capaudit::common {

struct OutputOptions {
  // Owner for the created file (the invoking user under sudo); -1 keeps root.
  int64_t owner_uid = -1;
  int64_t owner_gid = -1;
  // Seal a batch after this many events of all kinds...
  uint32_t batch_events = 65536;
  // ...or when flush_if_due() is called this long after the last flush.
  uint64_t flush_interval_ns = 1'000'000'000;
  int zstd_level = 3;
};

// Writes one trace. Events are buffered into columnar batches; a batch is
// encoded, compressed and written as one zstd frame, so a crash loses at most
// the unflushed batch. Throws common::Error on I/O failure.
class TraceWriter {
 public:
  // Creates PATH with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 ("-" = stdout).
  // Never overwrites an existing file.
  static std::unique_ptr<TraceWriter> create(const std::string& path, const OutputOptions& opts = {});
  // Writes into an already open fd (tests, pipes). Does not close it unless owns_fd.
  static std::unique_ptr<TraceWriter> from_fd(int fd, bool owns_fd, const OutputOptions& opts = {});

  virtual ~TraceWriter() = default;

  virtual void write_header(const Header& header) = 0;            // exactly once, first
  virtual void write_processes(std::span<const ProcessInfo> procs) = 0;  // optional, after header

  virtual void add(const CapCheck& e) = 0;
  virtual void add(const ForkEvent& e) = 0;
  virtual void add(const ExecEvent& e) = 0;
  virtual void add(const ExitEvent& e) = 0;
  virtual void add(const SyscallOutcome& e) = 0;
  virtual void add(const CapsetEvent& e) = 0;
  virtual void add(const OperationFact& e) = 0;
  virtual void add(const KernelStack& s) = 0;
  virtual void add(const UserStack& s) = 0;  // 1.6; its files go into the batch's dictionary
  // An outcome window opened (end_ns 0) or closed (1.6); not an event: not in Trailer::counts.
  virtual void add(const OutcomeWindow& w) = 0;

  // Seals the current batch if it is non-empty and now_ns is at least
  // flush_interval_ns past the last flush (the first call counts as due).
  // now_ns: CLOCK_MONOTONIC or BOOTTIME, the same clock on every call.
  // Finished traces count exactly what was added; see Trailer::counts.
  virtual void flush_if_due(uint64_t now_ns) = 0;
  virtual void flush() = 0;  // seal the current batch and fsync-free write it out

  // Flushes and writes the trailer; no further calls allowed. The trailer's
  // counts are replaced by what this writer actually wrote.
  virtual void finish(const Trailer& trailer) = 0;

  // Ends a trace after an error, as far as the output allows; never throws.
  // If a write failed (full disk, closed pipe), the batch it was writing is
  // dropped (the trailer counts only what reached the file) and a regular
  // file is cut back to the end of its last complete frame, so what remains
  // reads cleanly. Then the trailer (as given, e.g. clean_shutdown = false)
  // is tried. A Failure says why no trailer could be written.
  virtual Result<> finish_incomplete(const Trailer& trailer) = 0;

  virtual uint64_t bytes_written() const = 0;
};

// Bounds for untrusted input.
struct ReadLimits {
  uint64_t max_message_bytes = 256ull << 20;      // decompressed size of one message
  uint64_t traversal_limit_words = 64ull << 20;   // Cap'n Proto traversal limit per message
  int nesting_limit = 16;
  // Capability checks one batch may claim (columns of length 1 make a huge
  // claim cheap to write, so it needs its own bound).
  uint64_t max_batch_events = 1ull << 24;
  // Checks a batch may claim without one value per check in any column
  // (every column empty or a single shared value): such a claim is carried
  // by no bytes at all. The writer seals a batch after 65536 events.
  uint64_t max_uncarried_checks = 1ull << 16;
  // A frame may decompress to less than this many times its own size once
  // the message is larger than expansion_floor_bytes. Zeros compress ~30000:1;
  // real recordings measured at most 38:1 (3 M checks of a hot loop) and 10:1
  // (20 000 execs), so a higher ratio is a decompression bomb.
  uint64_t max_expansion_ratio = 256;
  uint64_t expansion_floor_bytes = 1ull << 20;
};

// Receives the content of a trace in file order. Batches arrive as spans
// valid only during the call, so memory does not grow with the trace. Within
// one batch the order is: stacks, user stacks, forks, execs, capsets, cap checks (possibly
// in several calls), outcomes, operations, exits, then on_batch_end. Exceptions
// thrown by a visitor propagate out of read_trace unchanged.
class TraceVisitor {
 public:
  virtual ~TraceVisitor() = default;
  virtual void on_header(const Header&) {}
  virtual void on_processes(std::span<const ProcessInfo>) {}
  virtual void on_cap_checks(std::span<const CapCheck>) {}
  virtual void on_forks(std::span<const ForkEvent>) {}
  virtual void on_execs(std::span<const ExecEvent>) {}
  virtual void on_exits(std::span<const ExitEvent>) {}
  virtual void on_outcomes(std::span<const SyscallOutcome>) {}
  virtual void on_capsets(std::span<const CapsetEvent>) {}
  virtual void on_operations(std::span<const OperationFact>) {}
  virtual void on_stacks(std::span<const KernelStack>) {}
  virtual void on_user_stacks(std::span<const UserStack>) {}  // 1.6
  // Outcome windows as written (1.6): each start_ns first open, later closed.
  virtual void on_outcome_windows(std::span<const OutcomeWindow>) {}
  // After all events of batch `seq` (0, 1, ...): kinds arrive grouped within a
  // batch, so consumers that need time order across kinds sort at this point.
  virtual void on_batch_end(uint64_t /*seq*/) {}
  virtual void on_trailer(const Trailer&) {}
};

// Passes every call on to another visitor: a filter overrides only the calls
// it changes, so a new event kind is forwarded by adding it here once.
class ForwardingVisitor : public TraceVisitor {
 public:
  explicit ForwardingVisitor(TraceVisitor& inner) : inner_(inner) {}
  void on_header(const Header& h) override { inner_.on_header(h); }
  void on_processes(std::span<const ProcessInfo> p) override { inner_.on_processes(p); }
  void on_cap_checks(std::span<const CapCheck> e) override { inner_.on_cap_checks(e); }
  void on_forks(std::span<const ForkEvent> e) override { inner_.on_forks(e); }
  void on_execs(std::span<const ExecEvent> e) override { inner_.on_execs(e); }
  void on_exits(std::span<const ExitEvent> e) override { inner_.on_exits(e); }
  void on_outcomes(std::span<const SyscallOutcome> e) override { inner_.on_outcomes(e); }
  void on_capsets(std::span<const CapsetEvent> e) override { inner_.on_capsets(e); }
  void on_operations(std::span<const OperationFact> e) override { inner_.on_operations(e); }
  void on_stacks(std::span<const KernelStack> e) override { inner_.on_stacks(e); }
  void on_user_stacks(std::span<const UserStack> e) override { inner_.on_user_stacks(e); }
  void on_outcome_windows(std::span<const OutcomeWindow> w) override { inner_.on_outcome_windows(w); }
  void on_batch_end(uint64_t seq) override { inner_.on_batch_end(seq); }
  void on_trailer(const Trailer& t) override { inner_.on_trailer(t); }

 protected:
  TraceVisitor& inner_;
};

enum class ReadStatus : uint8_t {
  complete = 0,   // header, batches and trailer all read
  truncated = 1,  // the file ends early (no trailer): everything up to the last complete batch was delivered
  corrupt = 2,    // damaged or invalid bytes at error_offset; content before it was delivered
  error = 3,      // cannot read at all (open failed, not a trace, unsupported major version)
};

struct ReadResult {
  ReadStatus status = ReadStatus::error;
  std::string message;        // human-readable, names the byte offset when relevant
  uint64_t error_offset = 0;  // byte offset of the damage (corrupt/truncated)
  uint64_t batches = 0;       // complete event batches delivered
  bool has_header = false;
  bool has_trailer = false;
};

// Streams PATH ("-" = stdin) into the visitor. Never throws for bad input;
// never crashes on corrupt bytes.
ReadResult read_trace(const std::string& path, TraceVisitor& visitor, const ReadLimits& limits = {});
ReadResult read_trace_bytes(std::span<const uint8_t> bytes, TraceVisitor& visitor, const ReadLimits& limits = {});

const char* to_string(ReadStatus s);
const char* to_string(Hook h);
const char* to_string(TargetMode m);
const char* to_string(OpKind k);
const char* to_string(FactsSource f);
const char* to_string(OutcomeTracking t);
const char* to_string(OutcomeMechanism m);
const char* to_string(WindowEnd e);

}  // namespace capaudit::common
