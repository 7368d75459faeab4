#include "common/command_line.h"

#include <cstring>

namespace capaudit::common {

CommandSplit split_at_double_dash(int argc, const char* const* argv) {
  CommandSplit out;
  out.options_argc = argc;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) {
      out.options_argc = i;
      break;
    }
  for (int i = out.options_argc + 1; i < argc; ++i) out.command.emplace_back(argv[i]);
  return out;
}

}  // namespace capaudit::common
