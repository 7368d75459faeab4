// Where the front command finds the two tools it runs. It ties to them by
// process only (fork + exec), never by linking their code.
#pragma once

#include <string>

namespace capaudit::front {

// The path to exec for `name` ("capaudit-record", "capaudit-analyze"):
// 1. next to this binary: an installed capaudit (cmake --install puts the
//    three tools in one bin/), or a copy with stand-ins beside it (the tests);
// 2. the build tree's place of the tool relative to this binary's directory
//    (compiled in as a relative path, so a moved build tree still works);
// 3. else the bare name, for execvp to search PATH.
std::string find_tool(const std::string& name);

}  // namespace capaudit::front
