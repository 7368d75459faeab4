// Symbolizes a classified report's user-space frames in place: the one step
// of the analysis that reads files (binaries and debuginfo), kept out of the
// pure core and run by the CLI between classify() and render.
#pragma once

#include <cstdint>

#include "analyze/core/findings.h"
#include "analyze/symbolize/symbolize.h"

namespace capaudit::analyze::symbolize {

struct ReportSymbols {
  uint64_t frames = 0;  // distinct frames looked up
  uint64_t debuginfo = 0, symtab = 0, dynsym = 0, none = 0;
};

// Fills function, file, line, source and problem of every frame (each frame
// says itself why it has less than debuginfo); returns how many distinct
// frames each source named.
ReportSymbols symbolize_report(Report& r, Symbolizer& s);

// The frame as the symbolizer takes it.
common::UserFrame to_user_frame(const UserFrameInfo& u);

}  // namespace capaudit::analyze::symbolize
