// `capaudit-analyze check TRACES... --against UNIT|MANIFEST | --caps LIST`:
// a CI gate. Missing = required but not granted; excess = granted, never observed.
#include <iostream>
#include <variant>

#include "analyze/cli/commands.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "analyze/config/check.h"
#include "common/error.h"
#include "common/input_limits.h"
#include "common/log.h"

namespace capaudit::analyze::cli {
namespace {

// A unit, a manifest or a list: analyze/config tells them apart.
Grant grant_from_file(const std::string& path) {
  auto g = grant_from_deployment(common::read_file_capped(path, common::kMaxDeploymentFileBytes, "deployment file"), path);
  if (auto* e = std::get_if<std::string>(&g)) throw common::Error(*e);
  return std::get<Grant>(g);
}

}  // namespace

int cmd_check(const std::vector<std::string>& args) {
  po::options_description opts("Check");
  opts.add_options()
      ("against,a", po::value<std::string>(),
       "systemd unit/drop-in, Kubernetes manifest or securityContext, compose file or a list file")
      ("granted", po::value<std::string>(), "the granted capabilities as a list (CAP_NET_RAW,net_bind_service ...)")
      ("allow-excess", "fail only on missing capabilities, not on granted-but-unobserved ones")
      ("format,f", po::value<std::string>()->default_value("text"), "text or json");
  // --caps was the old name of --granted; in the recorder and the front
  // command --caps restricts the run instead.
  po::options_description deprecated;
  deprecated.add_options()("caps,c", po::value<std::string>(), "");
  auto vm = parse_command(args, {opts, profile_options()},
                          {"capaudit-analyze check [OPTIONS] TRACE... (--against FILE | --granted LIST)",
                           "Compares what the traces needed (required + conditional capabilities) with what a "
                           "deployment grants. missing: required but not granted (the deployment fails). excess: "
                           "granted but never observed (a coverage gap or an unneeded grant). Exit 0 when nothing "
                           "is missing or in excess, 4 when the check fails (with --allow-excess: only on missing), "
                           "3 when it passed but an input trace was incomplete, 1 on errors, 2 on bad usage. "
                           "The needs are those of the recorded host, for a Kubernetes manifest or a compose file those "
                           "under the docker profile (as config evaluates them), unless a profile option says "
                           "otherwise. Deprecated spelling: -c/--caps (use --granted).",
                           "  capaudit-analyze check webd.cap --against /etc/systemd/system/webd.service\n"
                           "  capaudit-analyze check ci-*.cap --against k8s/deployment.yaml --allow-excess\n"
                           "  capaudit-analyze check run.cap --granted CAP_NET_BIND_SERVICE -f json\n"
                           "  capaudit-analyze check run.cap --granted CAP_CHOWN --profile docker\n"},
                          &deprecated);
  if (!vm) return kExitOk;
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "text" && format != "json")
    throw common::Error("unknown format '" + format + "'", "use -f text or json", kExitUsage);
  const auto granted = option_value(*vm, "check", {"granted", "caps"});
  if ((vm->count("against") > 0) == granted.has_value()) {
    throw common::Error("give exactly one of --against FILE and --granted LIST", "see capaudit-analyze check --help",
                        kExitUsage);
  }
  Grant grant;
  if (vm->count("against")) {
    grant = grant_from_file((*vm)["against"].as<std::string>());
  } else {
    auto g = grant_from_caps_list(*granted);
    if (auto* e = std::get_if<std::string>(&g)) throw common::Error(*e, "", kExitUsage);
    grant = std::get<Grant>(g);
  }
  const auto files = vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  ProfileChoice profile = read_profile_options(*vm);
  if (!profile.given() && grant.container) {
    // As `config` evaluates the kubernetes and compose formats.
    const std::string name = default_profile_for(ConfigFormat::kubernetes);
    profile.overlay = named_profile(name)->profile;
    profile.name = name;
    grant.notes.push_back("needs evaluated under the " + name +
                          " profile, the container runtime's defaults (Docker, containerd >= 2.0); "
                          "--profile host or the runtime's sysctls to change it");
  }
  const AnalyzedRuns runs = analyze_traces(files, profile);
  const bool allow_excess = vm->count("allow-excess") > 0;
  const CheckResult result = check_grant(runs.report.recommended, grant);
  if (runs.exit_code != kExitOk && format != "json") std::cout << incomplete_banner(runs.incomplete) << "\n";
  std::cout << (format == "json" ? render_check_json(result, grant, allow_excess)
                                 : render_check(result, grant, allow_excess));
  for (const auto& why : runs.incomplete) common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
  if (!result.pass(allow_excess)) return kExitNegative;
  return runs.exit_code;
}

}  // namespace capaudit::analyze::cli
