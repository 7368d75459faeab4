// Builds synthetic traces in memory for tests: the real TraceWriter writes
// into an anonymous memory file, so tests exercise the production encoder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/trace.h"
#include "common/trace_io.h"

namespace capaudit::test {

class TraceBuilder {
 public:
  explicit TraceBuilder(const common::OutputOptions& opts = {});
  ~TraceBuilder();
  TraceBuilder(const TraceBuilder&) = delete;
  TraceBuilder& operator=(const TraceBuilder&) = delete;

  // Optional; example_header() is written before the first other call otherwise.
  TraceBuilder& header(const common::Header& h);
  TraceBuilder& processes(const std::vector<common::ProcessInfo>& procs);
  template <typename Event>
  TraceBuilder& add(const Event& e) {
    ensure_header();
    writer_->add(e);
    return *this;
  }
  TraceBuilder& flush();  // seals the current batch

  // The complete trace, trailer included. Ends the builder.
  std::vector<uint8_t> finish(const common::Trailer& trailer = {});
  // What a crashed writer leaves: flushed batches, no trailer. Ends the builder.
  std::vector<uint8_t> unfinished();

 private:
  void ensure_header();
  std::vector<uint8_t> contents();

  int fd_ = -1;
  std::unique_ptr<common::TraceWriter> writer_;
  bool has_header_ = false;
};

// A plausible header with every section filled.
common::Header example_header();

common::CapCheck check(uint64_t time_ns, uint32_t pid, int32_t cap, bool granted = true, int32_t syscall_nr = -1);

}  // namespace capaudit::test
