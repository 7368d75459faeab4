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

// Keeps everything a trace delivers, in order.
struct CollectingVisitor : common::TraceVisitor {
  int headers = 0;
  common::Header header;
  std::vector<common::ProcessInfo> processes;
  std::vector<common::CapCheck> checks;
  std::vector<common::ForkEvent> forks;
  std::vector<common::ExecEvent> execs;
  std::vector<common::ExitEvent> exits;
  std::vector<common::SyscallOutcome> outcomes;
  std::vector<common::CapsetEvent> capsets;
  std::vector<common::OperationFact> operations;
  std::vector<common::KernelStack> stacks;
  std::vector<common::UserStack> user_stacks;
  std::vector<common::OutcomeWindow> windows;
  std::optional<common::Trailer> trailer;
  size_t check_calls = 0;

  void on_header(const common::Header& h) override { ++headers; header = h; }
  void on_processes(std::span<const common::ProcessInfo> p) override { processes.insert(processes.end(), p.begin(), p.end()); }
  void on_cap_checks(std::span<const common::CapCheck> c) override {
    ++check_calls;
    checks.insert(checks.end(), c.begin(), c.end());
  }
  void on_forks(std::span<const common::ForkEvent> e) override { forks.insert(forks.end(), e.begin(), e.end()); }
  void on_execs(std::span<const common::ExecEvent> e) override { execs.insert(execs.end(), e.begin(), e.end()); }
  void on_exits(std::span<const common::ExitEvent> e) override { exits.insert(exits.end(), e.begin(), e.end()); }
  void on_outcomes(std::span<const common::SyscallOutcome> e) override { outcomes.insert(outcomes.end(), e.begin(), e.end()); }
  void on_capsets(std::span<const common::CapsetEvent> e) override { capsets.insert(capsets.end(), e.begin(), e.end()); }
  void on_operations(std::span<const common::OperationFact> e) override {
    operations.insert(operations.end(), e.begin(), e.end());
  }
  void on_stacks(std::span<const common::KernelStack> s) override { stacks.insert(stacks.end(), s.begin(), s.end()); }
  void on_user_stacks(std::span<const common::UserStack> s) override {
    user_stacks.insert(user_stacks.end(), s.begin(), s.end());
  }
  void on_outcome_windows(std::span<const common::OutcomeWindow> w) override {
    windows.insert(windows.end(), w.begin(), w.end());
  }
  void on_trailer(const common::Trailer& t) override { trailer = t; }
};

}  // namespace capaudit::test
