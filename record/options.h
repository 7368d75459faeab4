// Command line of capaudit-record.
#pragma once

#include <string>

#include "record/recorder.h"

namespace capaudit::record {

struct ParsedCommandLine {
  RecordOptions options;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Throws common::Error (exit code 2) for bad usage.
ParsedCommandLine parse_command_line(int argc, char** argv);

}  // namespace capaudit::record
