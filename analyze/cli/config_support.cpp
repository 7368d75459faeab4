#include "analyze/cli/config_support.h"

#include <grp.h>
#include <pwd.h>

#include <variant>

#include "analyze/cli/commands.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "common/error.h"
#include "common/systemd_unit.h"

namespace capaudit::analyze::cli {

AnalyzedRuns analyze_traces(const std::vector<std::string>& files) {
  if (files.empty()) throw common::Error("no trace given", "pass one or more files written by capaudit-record", kExitUsage);
  AnalyzedRuns out;
  std::vector<RunAggregate> runs;
  for (const auto& f : files) {
    RunAggregate run = load_trace(f);
    if (run.read.status == common::ReadStatus::error) {
      throw common::Error(f + ": " + run.read.message);
    }
    out.exit_code = worst_exit(out.exit_code, exit_code_for(run.read));
    runs.push_back(std::move(run));
  }
  ClassifyOptions opts;
  opts.tool_version = CAPAUDIT_VERSION;
  out.report = classify(runs, opts);
  if (!out.report.complete) out.exit_code = worst_exit(out.exit_code, kExitIncomplete);
  for (const auto& ri : out.report.runs)
    for (const auto& why : ri.incomplete_reasons) out.incomplete.push_back(ri.path + ": " + why);
  return out;
}

RunAs parse_run_as(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  RunAs r;
  auto id = common::parse_unit_id(user);
  if (auto* uid = std::get_if<uint32_t>(&id)) {
    r.uid = r.gid = *uid;
    r.name = user;
  } else {
    if (!user.empty() && user.find_first_not_of("0123456789-") == std::string::npos) {
      throw common::Error("--deploy-as " + spec + ": " + std::get<std::string>(id), "", kExitUsage);
    }
    passwd* pw = getpwnam(user.c_str());
    if (!pw) throw common::Error("--deploy-as " + spec + ": no such user on this host", "give a numeric uid[:gid]", kExitUsage);
    r.uid = pw->pw_uid;
    r.gid = pw->pw_gid;
    r.name = user;
  }
  if (colon != std::string::npos) {
    const std::string g = spec.substr(colon + 1);
    auto gid = common::parse_unit_id(g);
    if (auto* n = std::get_if<uint32_t>(&gid)) {
      r.gid = *n;
    } else if (group* gr = getgrnam(g.c_str())) {
      r.gid = gr->gr_gid;
    } else {
      throw common::Error("--deploy-as " + spec + ": invalid group '" + g + "'", "", kExitUsage);
    }
  }
  return r;
}

}  // namespace capaudit::analyze::cli
