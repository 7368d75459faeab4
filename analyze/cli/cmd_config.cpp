// `capaudit-analyze config [--config FORMAT,...] TRACES...`: the recommended
// configuration in the formats asked for (systemd and docker by default).
#include <iostream>

#include "analyze/cli/commands.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "analyze/core/quote.h"
#include "analyze/core/verdict.h"
#include "common/error.h"
#include "common/input_limits.h"
#include "common/log.h"

namespace capaudit::analyze::cli {

int cmd_config(const std::vector<std::string>& args) {
  po::options_description opts("Config");
  opts.add_options()
      ("config", po::value<std::string>(),
       "formats, comma separated: systemd, docker, podman, compose, kubernetes, setcap, filecap, c, python, or "
       "all (default: systemd,docker). One format alone is printed bare, ready to save as a file")
      ("deploy-as", po::value<std::string>(),
       "deploy as USER[:GROUP] (name or id) instead of the account the trace shows")
      ("name", po::value<std::string>(), "service/container name used in the snippets")
      ("per-container", po::bool_switch(),
       "one configuration per container of the recording (a --cgroup over a pod or a slice of containers, "
       "or several --container runs), each from that container's programs only and named after it");
  // Old spellings: -f/--format meant the config format here but text/json/yaml
  // elsewhere; --user meant the deployment account here but "run as" in the
  // recorder and the front command.
  po::options_description deprecated;
  deprecated.add_options()("format,f", po::value<std::string>(), "")("user,u", po::value<std::string>(), "");
  auto vm = parse_command(args, {opts, profile_options()},
                          {"capaudit-analyze config [OPTIONS] TRACE...",
                           "Prints the recommended capability configuration for the programs in the traces: "
                           "the required and conditional capabilities of every executable, as a systemd drop-in, "
                           "container flags, a Kubernetes securityContext, file capabilities or libcap-ng code. "
                           "Startup-only capabilities are included (deployment configs grant for the whole run) "
                           "and the code snippets show how to drop them after initialization. When a recorded "
                           "run failed (the command did not start, exited non-zero, or was denied an operation "
                           "it needed) every config opens with a WARNING comment saying so. Each format is evaluated under "
                           "its runtime's defaults and says which: docker, compose and kubernetes under the docker "
                           "profile (kubernetes assumes containerd >= 2.0), podman under the podman profile, systemd, "
                           "setcap, filecap, c and python under the recorded host. A profile option applies to every "
                           "format. Deprecated "
                           "spellings: -f/--format (use --config), -u/--user (use --deploy-as).",
                           "  capaudit-analyze config --config systemd webd.cap > capabilities.conf\n"
                           "  capaudit-analyze config --config kubernetes,compose --deploy-as 65534 run1.cap run2.cap\n"
                           "  capaudit-analyze config --config all webd.cap\n"
                           "  capaudit-analyze config --config kubernetes --profile host webd.cap\n"},
                          &deprecated);
  if (!vm) return kExitOk;
  const auto files = vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  std::vector<ConfigFormat> formats = default_report_formats();
  const auto list = option_value(*vm, "config", {"config", "format"});
  if (list) {
    auto parsed = parse_config_list(*list);
    if (auto* e = std::get_if<std::string>(&parsed)) {
      throw common::Error(*e, "formats: systemd docker podman compose kubernetes setcap filecap c python, or all",
                          kExitUsage);
    }
    formats = std::get<std::vector<ConfigFormat>>(parsed);
  }
  std::optional<RunAs> run_as;
  if (auto user = option_value(*vm, "config", {"deploy-as", "user"})) run_as = parse_run_as(*user);
  const ProfileChoice profile = read_profile_options(*vm);
  const AnalyzedRuns runs = analyze_traces(files, profile);
  const bool per_container = (*vm)["per-container"].as<bool>();
  if (per_container && runs.report.containers.empty())
    throw common::Error("--per-container: no process of the recording ran in a container",
                        "record a container's cgroup (--cgroup, --container); its cgroup path names the container id",
                        kExitUsage);
  if (per_container && vm->count("name"))
    throw common::Error("--per-container names each configuration after its container", "drop --name", kExitUsage);
  RuntimeConfigs configs(runs.runs, runs.options, profile.given(), run_as,
                         vm->count("name") ? (*vm)["name"].as<std::string>() : std::string());
  const std::string warning = verdict_warning(make_verdict(runs.report));
  if (runs.exit_code != kExitOk) {
    // The config itself says so, in the first line, as a comment of its own language.
    std::cout << (formats.size() == 1 && formats[0] == ConfigFormat::c ? "// " : "# ") << incomplete_banner(runs.incomplete) << "\n";
    for (const auto& why : runs.incomplete)
      common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
    std::cerr << "capaudit-analyze config: some input was incomplete; the configuration covers what was recorded\n";
  }
  if (per_container) {
    // Each container classified on its own processes, under the same profile choice.
    const char* comment = formats.size() == 1 && formats[0] == ConfigFormat::c ? "// " : "# ";
    bool first = true;
    for (const auto& c : runs.report.containers) {
      ClassifyOptions one = runs.options;
      one.container = c.id;
      RuntimeConfigs mine(runs.runs, one, profile.given(), run_as, c.name.empty() ? c.id.substr(0, 12) : c.name);
      std::cout << (first ? "" : "\n") << comment << "Container " << comment_text(display_name(c))
                << (c.engine.empty() ? "" : " (" + comment_text(c.engine) + ")") << ", id " << c.id << "\n";
      first = false;
      if (list && formats.size() == 1) std::cout << render_config_with_warning(formats[0], mine.input(formats[0]), warning);
      else std::cout << render_configs([&](ConfigFormat f) { return mine.input(f); }, formats, warning);
    }
  } else if (list && formats.size() == 1) {
    std::cout << render_config_with_warning(formats[0], configs.input(formats[0]), warning);
  } else {
    std::cout << render_configs([&](ConfigFormat f) { return configs.input(f); }, formats, warning);
  }
  if (!warning.empty()) std::cerr << "capaudit-analyze config: WARNING: " << warning << "\n";
  return runs.exit_code;
}

}  // namespace capaudit::analyze::cli
