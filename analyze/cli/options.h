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
// `hidden` options are accepted but not shown (deprecated spellings).
std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               const std::vector<po::options_description>& groups,
                                               const CommandHelp& help,
                                               const po::options_description* hidden = nullptr);

// The value of the first of `names` given (a current name, then deprecated
// ones); a deprecated spelling prints a warning naming the current one.
std::optional<std::string> option_value(const po::variables_map& vm, const std::string& command,
                                        const std::vector<std::string>& names);

// "12.000000345" (seconds with nanoseconds).
std::string format_seconds(uint64_t ns);
// "2026-11-29T18:47:25.123Z" for CLOCK_REALTIME nanoseconds.
std::string format_wall(int64_t realtime_ns);

}  // namespace capaudit::analyze::cli
