// Data files from analyze/data compiled into the analyzer (see
// analyze/core/embed.cmake), so the binary is self-contained and the tables
// stay readable files in the repository.
#pragma once

#include <optional>
#include <stdexcept>
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

// Blanks around a token of a data file line.
inline std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Parses a compiled-in data file. The files ship with the binary and are
// tested, so a missing file or a parse error there is a bug, not bad input.
template <class Parse>
auto parse_embedded(const std::string& name, Parse parse) {
  auto text = embedded_file(name);
  if (!text) throw std::logic_error(name + " not compiled in");
  auto parsed = parse(*text);
  if (!parsed.errors.empty())
    throw std::logic_error(name + ":" + std::to_string(parsed.errors[0].line) + ": " + parsed.errors[0].message);
  return parsed;
}

}  // namespace capaudit::analyze
