// `capaudit-analyze diff OLD... -- NEW...`: capabilities gained, lost or
// changed in reason between two sets of runs (two versions, two hosts).
#include <algorithm>
#include <iostream>

#include "analyze/cli/commands.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "analyze/config/check.h"
#include "common/error.h"
#include "common/input_limits.h"
#include "common/log.h"

namespace capaudit::analyze::cli {

int cmd_diff(const std::vector<std::string>& args) {
  // Boost treats everything after "--" as positional, so split first.
  const auto sep = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> old_args(args.begin(), sep);
  const std::vector<std::string> new_files(sep == args.end() ? args.end() : sep + 1, args.end());
  po::options_description opts("Diff");
  opts.add_options()
      ("format,f", po::value<std::string>()->default_value("text"), "text or json")
      ("exit-code", "exit 4 when the two sets of runs differ, 0 when they do not (like git diff --exit-code)");
  auto vm = parse_command(old_args, {opts, profile_options()},
                          {"capaudit-analyze diff [OPTIONS] OLD_TRACE... -- NEW_TRACE...",
                           "Compares the merged conclusions of two sets of runs. gained: recommended now, not "
                           "before. lost: recommended before, not now. changed: the category moved otherwise "
                           "(e.g. required -> conditional, a capability that became denied-only). Exit 0 after "
                           "a complete comparison whether or not anything differs; with --exit-code, 4 when "
                           "something differs. A profile option (--profile, --profile-from, --sysctl-profile, "
                           "--sysctl) evaluates both sets under that profile, as report does; without one each run "
                           "is evaluated under its recorded host.",
                           "  capaudit-analyze diff v1-*.cap -- v2-*.cap\n"
                           "  capaudit-analyze diff --exit-code -f json v1.cap -- v2.cap\n"
                           "  capaudit-analyze diff --profile docker laptop.cap -- ci.cap\n"});
  if (!vm) return kExitOk;
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "text" && format != "json")
    throw common::Error("unknown format '" + format + "'", "use -f text or json", kExitUsage);
  const auto old_files =
      vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (sep == args.end() || old_files.empty() || new_files.empty()) {
    throw common::Error("diff needs old traces, '--', then new traces", "capaudit-analyze diff OLD... -- NEW...",
                        kExitUsage);
  }
  const ProfileChoice profile = read_profile_options(*vm);
  const AnalyzedRuns before = analyze_traces(old_files, profile);
  const AnalyzedRuns after = analyze_traces(new_files, profile);
  if (format != "json") {
    if (before.exit_code != kExitOk) std::cout << "old: " << incomplete_banner(before.incomplete) << "\n";
    if (after.exit_code != kExitOk) std::cout << "new: " << incomplete_banner(after.incomplete) << "\n";
  }
  for (const auto* side : {&before, &after})
    for (const auto& why : side->incomplete) common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
  const auto deltas = diff_caps(cap_statuses(before.report), cap_statuses(after.report));
  std::cout << (format == "json" ? render_diff_json(deltas) : render_diff(deltas));
  const int code = worst_exit(before.exit_code, after.exit_code);
  if (vm->count("exit-code") && !deltas.empty()) return worst_exit(code, kExitNegative);
  return code;
}

}  // namespace capaudit::analyze::cli
