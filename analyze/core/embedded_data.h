// Data files from analyze/data compiled into the analyzer (see
// analyze/core/embed.cmake), so the binary is self-contained and the tables
// stay readable files in the repository.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capaudit::analyze {

struct EmbeddedFile {
  std::string name;  // path below analyze/data: "sysctl_rules.conf", "profiles/docker.conf"
  std::string_view text;
};

const std::vector<EmbeddedFile>& embedded_files();
std::optional<std::string_view> embedded_file(std::string_view name);

}  // namespace capaudit::analyze
