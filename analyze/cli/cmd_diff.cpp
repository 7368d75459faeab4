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
  auto vm = parse_command(old_args, {},
                          {"capaudit-analyze diff OLD_TRACE... -- NEW_TRACE...",
                           "Compares the merged conclusions of two sets of runs. gained: recommended now, not "
                           "before. lost: recommended before, not now. changed: the category moved otherwise "
                           "(e.g. required -> conditional, a capability that became denied-only). Exit 0 after "
                           "a complete comparison, whether or not anything differs.",
                           "  capaudit-analyze diff v1-*.cap -- v2-*.cap\n"});
  if (!vm) return kExitOk;
  const auto old_files =
      vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (sep == args.end() || old_files.empty() || new_files.empty()) {
    throw common::Error("diff needs old traces, '--', then new traces", "capaudit-analyze diff OLD... -- NEW...");
  }
  const AnalyzedRuns before = analyze_traces(old_files);
  const AnalyzedRuns after = analyze_traces(new_files);
  if (before.exit_code != kExitOk) std::cout << "old: " << incomplete_banner(before.incomplete) << "\n";
  if (after.exit_code != kExitOk) std::cout << "new: " << incomplete_banner(after.incomplete) << "\n";
  for (const auto* side : {&before, &after})
    for (const auto& why : side->incomplete) common::log(common::LogLevel::warn, "incomplete: " + common::visible_bytes(why));
  std::cout << render_diff(diff_caps(cap_statuses(before.report), cap_statuses(after.report)));
  return worst_exit(before.exit_code, after.exit_code);
}

}  // namespace capaudit::analyze::cli
