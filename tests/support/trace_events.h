// What a trace holds between its header and its trailer, kind by kind: what
// the TraceBuilder writes (trace_builder.h) and the CollectingVisitor keeps
// when it reads a trace back (collector.h). A new event kind is added here once.
#pragma once

#include <vector>

#include "common/trace.h"

namespace capaudit::test {

struct TraceEvents {
  std::vector<common::ProcessInfo> processes;  // the snapshot
  std::vector<common::CapCheck> checks;
  std::vector<common::ForkEvent> forks;
  std::vector<common::ExecEvent> execs;
  std::vector<common::ExitEvent> exits;
  std::vector<common::SyscallOutcome> outcomes;
  std::vector<common::CapsetEvent> capsets;
  std::vector<common::OperationFact> operations;
  std::vector<common::KernelStack> stacks;
  std::vector<common::UserStack> user_stacks;  // format 1.6
  std::vector<common::OutcomeWindow> windows;  // format 1.6
};

}  // namespace capaudit::test
