// One recording written as numbered files (--split-size, --split-time): each
// piece a whole trace (header, batches, trailer) that the analyzer reads
// together with the others as one run (trace format 1.6, Header::split_*).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/trace_io.h"

namespace capaudit::record {

struct SplitOptions {
  uint64_t max_bytes = 0;    // start a new piece once this one has reached this size (0: no size bound)
  uint64_t max_time_ns = 0;  // ... or has been open this long (0: no time bound)
};

// "trace.cap", 3 -> "trace.0003.cap"; "trace" -> "trace.0003".
std::string piece_path(const std::string& path, uint32_t piece);

// A TraceWriter that starts a new piece after a flush once the current one
// has reached a bound. Every piece gets the header (with the run id and its
// number); a piece ends with a trailer that counts its own events, carries
// the losses and window totals given to the last set_running_trailer(), and
// says `continued`. The process snapshot goes to piece 1 only.
class SplitWriter final : public common::TraceWriter {
 public:
  // PATH is the name given with -o (never "-"); the pieces are piece_path(PATH, n).
  SplitWriter(std::string path, const common::OutputOptions& out, const SplitOptions& split);

  // Asked when a piece ends: what its trailer says about the recording so
  // far (losses, outcome windows).
  void set_running_trailer(std::function<common::Trailer()> f) { running_ = std::move(f); }
  uint32_t pieces() const { return piece_; }
  const std::string& current_path() const { return current_path_; }

  void write_header(const common::Header& header) override;
  void write_processes(std::span<const common::ProcessInfo> procs) override { w_->write_processes(procs); }
  void add(const common::CapCheck& e) override { w_->add(e); }
  void add(const common::ForkEvent& e) override { w_->add(e); }
  void add(const common::ExecEvent& e) override { w_->add(e); }
  void add(const common::ExitEvent& e) override { w_->add(e); }
  void add(const common::SyscallOutcome& e) override { w_->add(e); }
  void add(const common::CapsetEvent& e) override { w_->add(e); }
  void add(const common::OperationFact& e) override { w_->add(e); }
  void add(const common::KernelStack& s) override { w_->add(s); }
  void add(const common::UserStack& s) override { w_->add(s); }
  void add(const common::OutcomeWindow& w) override { w_->add(w); }
  void flush_if_due(uint64_t now_ns) override;
  void flush() override { w_->flush(); }
  void finish(const common::Trailer& trailer) override { w_->finish(trailer); }
  common::Result<> finish_incomplete(const common::Trailer& trailer) override {
    return w_->finish_incomplete(trailer);
  }
  // Over every piece.
  uint64_t bytes_written() const override { return done_bytes_ + w_->bytes_written(); }

 private:
  void open_piece();

  std::string path_;
  common::OutputOptions out_;
  SplitOptions split_;
  common::Header header_;
  std::function<common::Trailer()> running_;
  std::unique_ptr<common::TraceWriter> w_;
  std::string current_path_;
  uint32_t piece_ = 0;
  uint64_t done_bytes_ = 0;     // of the finished pieces
  uint64_t piece_start_ns_ = 0;  // the caller's clock at the piece's first flush_if_due (0: not yet)
};

// A fresh run id: 32 hex digits from the kernel's random source.
std::string new_run_id();

}  // namespace capaudit::record
