#include "analyze/cli/options.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "analyze/cli/commands.h"
#include "common/error.h"

namespace capaudit::analyze::cli {

std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               const std::vector<po::options_description>& groups,
                                               const CommandHelp& help,
                                               const po::options_description* hidden) {
  po::options_description general("General");
  general.add_options()("help,h", "show this help and exit")("version", "print the version and exit");
  po::options_description visible;
  for (const auto& g : groups) visible.add(g);
  visible.add(general);
  po::options_description all;
  all.add(visible);
  if (hidden) all.add(*hidden);
  all.add_options()("files", po::value<std::vector<std::string>>()->composing(), "input traces");
  po::positional_options_description pos;
  pos.add("files", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: " << help.usage << "\n\n" << help.purpose << "\n\n" << visible << "\n";
      if (!help.examples.empty()) std::cout << "Examples:\n" << help.examples << "\n";
      std::cout << exit_code_help();
      return std::nullopt;
    }
    if (vm.count("version")) {
      std::cout << "capaudit-analyze " << CAPAUDIT_VERSION << "\n";
      return std::nullopt;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw common::Error(e.what(), "see '" + help.usage.substr(0, help.usage.find(" [")) + " --help'", kExitUsage);
  }
  return vm;
}

std::optional<std::string> option_value(const po::variables_map& vm, const std::string& command,
                                        const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (!vm.count(names[i])) continue;
    if (i > 0) {
      std::cerr << "capaudit-analyze " << command << ": --" << names[i] << " is deprecated; use --" << names[0]
                << "\n";
    }
    return vm[names[i]].as<std::string>();
  }
  return std::nullopt;
}

std::string format_seconds(uint64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%09llu", static_cast<unsigned long long>(ns / 1'000'000'000),
                static_cast<unsigned long long>(ns % 1'000'000'000));
  return buf;
}

std::string format_wall(int64_t realtime_ns) {
  const time_t secs = static_cast<time_t>(realtime_ns / 1'000'000'000);
  struct tm tm {};
  if (gmtime_r(&secs, &tm) == nullptr) return std::to_string(realtime_ns) + " ns";
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03lldZ", static_cast<long long>((realtime_ns / 1'000'000) % 1000));
  return buf;
}

}  // namespace capaudit::analyze::cli
