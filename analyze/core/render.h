// Render stage: plain functions of the findings. No I/O; the CLI decides
// where the text goes, how wide the terminal is and whether colour is wanted.
#pragma once

#include <string>

#include "analyze/core/findings.h"

namespace capaudit::analyze {

struct TextOptions {
  int width = 100;       // wrap long lines here
  bool colour = false;   // ANSI bold/colour for headings (only on a terminal)
  std::string appendix;  // extra text appended verbatim (e.g. recommended configs)
  // Every section, empty ones included, with call paths and how the facts
  // were gathered; without it only sections with content (the verdict first).
  bool full = false;
};

std::string render_text(const Report& r, const TextOptions& opts = {});
std::string render_json(const Report& r);  // schema: docs/report-schema.md
std::string render_yaml(const Report& r);  // the same tree as the JSON

// The sentences of the findings (words.cpp), the same in every output: why
// a capability is in its category, why a conclusion changed between
// profiles, what a note says.
std::string reason_text(const CapFinding& f);
std::string why_text(const Change& c);
std::string note_text(const Note& n);
std::string operation_text(const OperationSeen& o);  // "bind AF_INET port 80 (type 1, protocol 0)"
// Where the capability was declared, one phrase each, sorted as text.
std::vector<std::string> declared_by_text(const CapFinding& f);

// "cap_chown,cap_net_raw" style (setcap/libcap names), "" for an empty set.
std::string cap_list(CapMask m, const char* sep = ", ");

}  // namespace capaudit::analyze
