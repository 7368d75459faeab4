// The one rule every analyzer command applies to its input (info, dump,
// report, config, check, diff): a trace is incomplete when it was truncated,
// is corrupt, has no header or trailer, or its trailer counts lost data
// (ring-buffer drops, untraced tasks, lost call paths, missed outcomes,
// malformed records, skipped hook runs, an unclean shutdown). Incomplete
// input makes the command exit 2 and every output say so.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/trace.h"
#include "common/trace_io.h"

namespace capaudit::analyze {

// The reason given for a piece of a split recording whose next piece was
// not read with it (Trailer::continued); `info` drops it when it was.
inline constexpr const char* kSplitContinued = "split recording: the pieces after this one were not read with it";

// Why a trace is incomplete, in words ("truncated: ...", "12 events dropped
// (ring buffer full)"); empty when it is complete.
std::vector<std::string> incomplete_reasons(const common::ReadResult& read, bool has_header,
                                            const std::optional<common::Trailer>& trailer);

}  // namespace capaudit::analyze
