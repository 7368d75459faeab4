// The one test collector: keeps everything a trace delivers, in order, for
// every event kind of common::TraceVisitor (the lists: trace_events.h).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/trace.h"
#include "common/trace_io.h"
#include "tests/support/trace_events.h"

namespace capaudit::test {

struct CollectingVisitor : common::TraceVisitor, TraceEvents {
  int headers = 0;   // how many headers were delivered (one in a sound trace)
  int trailers = 0;  // how many trailers (none in a truncated trace)
  common::Header header;
  common::Trailer trailer;  // the last one delivered; default when trailers == 0
  size_t check_calls = 0;   // on_cap_checks calls (one per batch that holds checks)

  void on_header(const common::Header& h) override {
    ++headers;
    header = h;
  }
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
  void on_trailer(const common::Trailer& t) override {
    ++trailers;
    trailer = t;
  }
};

}  // namespace capaudit::test
