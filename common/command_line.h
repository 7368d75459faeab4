// The one rule for "TOOL [OPTIONS] -- CMD [ARGS...]" (capaudit-record,
// capaudit, capaudit verify): the first word that is exactly "--" ends the
// tool's own options, and every word after it is the command, untouched.
#pragma once

#include <string>
#include <vector>

namespace capaudit::common {

struct CommandSplit {
  int options_argc = 0;              // argv[0, options_argc) are the tool's own words
  std::vector<std::string> command;  // every word after the first "--", as given
};

// argv[0] is the program's name and never the separator. A "--" right after an
// option that takes a value still ends the options (the option then lacks its
// value and the option parser says so); "--output=--" is one word and a value.
// Without "--", or with nothing after it, the command is empty.
CommandSplit split_at_double_dash(int argc, const char* const* argv);

}  // namespace capaudit::common
