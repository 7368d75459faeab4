// `capaudit-analyze config --format FORMAT TRACES...`: the recommended
// configuration in one format (all formats without --format).
#include <iostream>

#include "analyze/cli/commands.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "common/error.h"
#include "common/input_limits.h"
#include "common/log.h"

namespace capaudit::analyze::cli {

int cmd_config(const std::vector<std::string>& args) {
  po::options_description opts("Config");
  opts.add_options()
      ("format,f", po::value<std::string>(),
       "systemd | docker | podman | compose | kubernetes | setcap | filecap | c | python (default: all)")
      ("user,u", po::value<std::string>(),
       "deploy as USER[:GROUP] (name or id) instead of the account the trace shows")
      ("name", po::value<std::string>(), "service/container name used in the snippets");
  auto vm = parse_command(args, {opts},
                          {"capaudit-analyze config [OPTIONS] TRACE...",
                           "Prints the recommended capability configuration for the programs in the traces: "
                           "the required and conditional capabilities of every executable, as a systemd drop-in, "
                           "container flags, a Kubernetes securityContext, file capabilities or libcap-ng code. "
                           "Startup-only capabilities are included (deployment configs grant for the whole run) "
                           "and the code snippets show how to drop them after initialization.",
                           "  capaudit-analyze config --format systemd webd.cap\n"
                           "  capaudit-analyze config -f kubernetes --user 65534 run1.cap run2.cap\n"});
  if (!vm) return kExitOk;
  const auto files = vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  std::optional<ConfigFormat> format;
  if (vm->count("format")) {
    format = parse_config_format((*vm)["format"].as<std::string>());
    if (!format) {
      throw common::Error("unknown format '" + (*vm)["format"].as<std::string>() + "'",
                          "one of systemd docker podman compose kubernetes setcap filecap c python");
    }
  }
  std::optional<RunAs> run_as;
  if (vm->count("user")) run_as = parse_run_as((*vm)["user"].as<std::string>());
  const AnalyzedRuns runs = analyze_traces(files);
  const ConfigInput input = config_input_from_report(
      runs.report, run_as, vm->count("name") ? (*vm)["name"].as<std::string>() : std::string());
  if (runs.exit_code != kExitOk) {
    // The config itself says so, in the first line, as a comment of its own language.
    std::cout << (format == ConfigFormat::c ? "// " : "# ") << incomplete_banner(runs.incomplete) << "\n";
    for (const auto& why : runs.incomplete)
      common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
    std::cerr << "capaudit-analyze config: some input was incomplete; the configuration covers what was recorded\n";
  }
  std::cout << (format ? render_config(*format, input) : render_all_configs(input));
  return runs.exit_code;
}

}  // namespace capaudit::analyze::cli
