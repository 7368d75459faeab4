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
      ("against,a", po::value<std::string>(), "systemd unit/drop-in, Kubernetes manifest, compose file or a list file")
      ("caps,c", po::value<std::string>(), "the granted capabilities as a list (CAP_NET_RAW,net_bind_service ...)")
      ("allow-excess", "fail only on missing capabilities, not on granted-but-unobserved ones");
  auto vm = parse_command(args, {opts},
                          {"capaudit-analyze check [OPTIONS] TRACE... (--against FILE | --caps LIST)",
                           "Compares what the traces needed (required + conditional capabilities) with what a "
                           "deployment grants. missing: required but not granted (the deployment fails). excess: "
                           "granted but never observed (a coverage gap or an unneeded grant). Exit 0 when nothing "
                           "is missing or in excess, 1 otherwise (or on error), 2 when an input trace was incomplete "
                           "and the check passed.",
                           "  capaudit-analyze check webd.cap --against /etc/systemd/system/webd.service\n"
                           "  capaudit-analyze check ci-*.cap --against k8s/deployment.yaml --allow-excess\n"
                           "  capaudit-analyze check run.cap --caps CAP_NET_BIND_SERVICE\n"});
  if (!vm) return kExitOk;
  if (vm->count("against") == vm->count("caps")) {
    throw common::Error("give exactly one of --against FILE and --caps LIST");
  }
  Grant grant;
  if (vm->count("against")) {
    grant = grant_from_file((*vm)["against"].as<std::string>());
  } else {
    auto g = grant_from_caps_list((*vm)["caps"].as<std::string>());
    if (auto* e = std::get_if<std::string>(&g)) throw common::Error(*e);
    grant = std::get<Grant>(g);
  }
  const auto files = vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const AnalyzedRuns runs = analyze_traces(files);
  const bool allow_excess = vm->count("allow-excess") > 0;
  const CheckResult result = check_grant(runs.report.recommended, grant);
  if (runs.exit_code != kExitOk) std::cout << incomplete_banner(runs.incomplete) << "\n";
  std::cout << render_check(result, grant, allow_excess);
  for (const auto& why : runs.incomplete) common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
  if (!result.pass(allow_excess)) return kExitError;
  return runs.exit_code;
}

}  // namespace capaudit::analyze::cli
