// Boost.Program_options glue shared by the sub-commands.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace capaudit::analyze::cli {

namespace po = boost::program_options;

struct CommandHelp {
  std::string usage;     // "capaudit-analyze info [OPTIONS] FILE..."
  std::string purpose;   // one paragraph
  std::string examples;  // lines, already indented
};

// Parses args against the option groups (a "files" positional list is added).
// Returns nullopt after printing --help; throws common::Error on bad usage.
std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               const std::vector<po::options_description>& groups,
                                               const CommandHelp& help);

// "12.000000345" (seconds with nanoseconds).
std::string format_seconds(uint64_t ns);
// "2026-11-29T18:47:25.123Z" for CLOCK_REALTIME nanoseconds.
std::string format_wall(int64_t realtime_ns);

}  // namespace capaudit::analyze::cli
