// The content of the committed synthetic samples, as code. The committed files
// are frozen (never regenerated); tests compare them with this content, so a
// change here that no longer matches a committed sample fails loudly.
#pragma once

#include "common/trace_io.h"

namespace capaudit::test {

// samples/synthetic-basic: ping opening a raw ICMP socket under file caps, a
// root web server binding port 80, overcommit noise in a hot loop, a denied
// check with its outcome, capset dropping everything. Several batches.
void write_synthetic_basic(common::TraceWriter& w);
inline constexpr uint32_t kSyntheticBasicBatchEvents = 1024;

}  // namespace capaudit::test
