// capaudit-analyze: offline, unprivileged. A small dispatcher; each
// sub-command lives in cmd_<name>.cpp (register it in kCommands).
#include <cstring>
#include <iostream>
#include <span>

#include "analyze/cli/commands.h"
#include "common/error.h"

namespace cli = capaudit::analyze::cli;

namespace {

constexpr cli::Command kCommands[] = {
    {"info", "print a trace's header sections, trailer, counts and losses", cli::cmd_info},
    {"dump", "print a trace's events, one per line", cli::cmd_dump},
    {"report", "classify capabilities, merge runs, re-evaluate against a profile", cli::cmd_report},
    {"config", "recommended configs: systemd, docker, podman, compose, kubernetes, setcap, filecap, c, python", cli::cmd_config},
    {"check", "gate: compare needed capabilities with a unit, manifest or list (exit 4 on mismatch)", cli::cmd_check},
    {"diff", "capabilities gained, lost or changed between two sets of runs (OLD... -- NEW...)", cli::cmd_diff},
    {"verify", "judge a re-run under the recommended set (capaudit verify records it; exit 4 if it fails)", cli::cmd_verify},
};

void usage(std::ostream& out) {
  out << "Usage: capaudit-analyze COMMAND [OPTIONS] FILE...\n\n"
         "Reads traces written by capaudit-record (no privileges needed).\n\n"
         "Commands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(10 - std::min<size_t>(9, std::strlen(c.name)), ' ') << c.summary << "\n";
  }
  out << "\nOptions:\n"
         "  -h, --help     this help (COMMAND --help: the options of one command)\n"
         "  --version      print the version\n\n"
      << cli::exit_code_help();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return cli::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage(std::cout);
    return cli::kExitOk;
  }
  if (name == "--version") {
    std::cout << "capaudit-analyze " << CAPAUDIT_VERSION << "\n";
    return cli::kExitOk;
  }
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const capaudit::common::Error& e) {
      std::cerr << "capaudit-analyze " << name << ": " << e.what() << "\n";
      if (!e.hint.empty()) std::cerr << "  hint: " << e.hint << "\n";
      return e.exit_code;
    } catch (const std::exception& e) {
      std::cerr << "capaudit-analyze " << name << ": " << e.what() << "\n";
      return cli::kExitError;
    }
  }
  std::cerr << "capaudit-analyze: unknown command '" << name << "'\n"
            << "  hint: commands are info, dump, report, config, check, diff, verify; see capaudit-analyze --help\n";
  return cli::kExitUsage;
}
