#include "front/tools.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace capaudit::front {

namespace fs = std::filesystem;

namespace {

// Relative to this binary's directory in the build tree (front/CMakeLists.txt).
const char* build_tree_path(const std::string& name) {
  if (name == "capaudit-record") return CAPAUDIT_RECORD_FROM_FRONT;
  if (name == "capaudit-analyze") return CAPAUDIT_ANALYZE_FROM_FRONT;
  return "";
}

}  // namespace

std::string find_tool(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = self.parent_path();
    const fs::path sibling = dir / name;
    if (access(sibling.c_str(), X_OK) == 0) return sibling;
    const std::string rel = build_tree_path(name);
    if (!rel.empty()) {
      const fs::path built = (dir / rel).lexically_normal();
      if (access(built.c_str(), X_OK) == 0) return built;
    }
  }
  return name;  // execvp searches PATH
}

}  // namespace capaudit::front
