// Analyzer tests build traces with the one TraceBuilder (tests/support) and
// read them back through the real reader into the Aggregator, as the
// analyzer reads a file.
#pragma once

#include <string>

#include "analyze/core/aggregate.h"
#include "tests/support/trace_builder.h"

namespace capaudit::analyze::test {

using capaudit::test::kAllCaps;
using capaudit::test::kInitUserns;
using capaudit::test::TraceBuilder;

// x86_64 syscall numbers used by the tests.
inline constexpr int32_t kMmap = 9, kBrk = 12, kSocket = 41, kBind = 49, kExecve = 59, kLink = 86, kChown = 92,
                         kCapset = 126, kMount = 165;
inline constexpr int kCapChown = 0, kCapFowner = 3, kCapSetuid = 7, kCapNetBindService = 10, kCapNetRaw = 13,
                     kCapSysAdmin = 21;

// A scenario on the analyzer tests' small header (capaudit::test::analysis_header()).
inline TraceBuilder synth() { return TraceBuilder(capaudit::test::analysis_header()); }

// The builder's trace, read back into an aggregate named PATH.
inline RunAggregate aggregate(const TraceBuilder& b, const std::string& path = "synthetic.cap") {
  Aggregator agg(path);
  const common::ReadResult rr = common::read_trace_bytes(b.bytes(), agg);
  return agg.finish(rr);
}

}  // namespace capaudit::analyze::test
