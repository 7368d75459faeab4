#include "analyze/cli/config_support.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <variant>

#include "analyze/cli/commands.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "common/error.h"
#include "common/input_limits.h"
#include "common/systemd_unit.h"

namespace capaudit::analyze::cli {

namespace {

// A bad --sysctl value is bad usage (exit 2); a bad file, an error (exit 1).
void fail_on_parse_errors(const std::string& source, const std::vector<ParseError>& errors, int exit_code = kExitError) {
  if (errors.empty()) return;
  std::string msg = source + ": ";
  for (size_t i = 0; i < errors.size() && i < 5; ++i)
    msg += (i ? "; " : "") + std::string(errors[i].line ? "line " + std::to_string(errors[i].line) + ": " : "") +
           errors[i].message;
  throw common::Error(msg, "sysctl.conf syntax: 'key = value' per line, '#' or ';' comments", exit_code);
}

struct HeaderOnly : common::TraceVisitor {
  std::optional<common::Header> header;
  void on_header(const common::Header& h) override { header = h; }
};

}  // namespace

po::options_description profile_options() {
  std::string names;
  for (const auto& n : named_profiles()) names += (names.empty() ? "" : ", ") + n;
  po::options_description prof("Re-evaluation against another system profile (later options win)");
  prof.add_options()
      ("profile", po::value<std::string>(), ("named profile: " + names).c_str())
      ("profile-from", po::value<std::string>(), "use another trace's recorded sysctls, rlimits and kernel config")
      ("sysctl-profile", po::value<std::string>(), "a sysctl.conf file")
      ("sysctl", po::value<std::vector<std::string>>()->composing(),
       "KEY=VALUE (repeatable); kernel.config.NAME=y|n|absent|unknown states the target kernel's build");
  return prof;
}

ProfileChoice read_profile_options(const po::variables_map& vm) {
  ProfileChoice out;
  std::vector<std::string> sources;
  if (vm.count("profile")) {
    const auto name = vm["profile"].as<std::string>();
    auto p = named_profile(name);
    if (!p) {
      std::string known;
      for (const auto& n : named_profiles()) known += (known.empty() ? "" : ", ") + n;
      throw common::Error("unknown profile '" + name + "'", "named profiles: " + known, kExitUsage);
    }
    fail_on_parse_errors("profile " + name, p->errors);
    out.overlay.overlay(p->profile);
    sources.push_back(name);
  }
  if (vm.count("profile-from")) {
    const auto path = vm["profile-from"].as<std::string>();
    HeaderOnly h;
    auto rr = common::read_trace(path, h);
    if (!h.header) throw common::Error(path + ": no header to take a profile from (" + rr.message + ")", "", kExitError);
    const Profile from = Profile::from_header(*h.header);
    std::vector<ParseError> bad;
    for (const auto& why : check_profile_values(from)) bad.push_back({0, why});
    fail_on_parse_errors(path + " (recorded sysctls)", bad);
    out.overlay.overlay(from);
    sources.push_back("trace:" + path);
  }
  if (vm.count("sysctl-profile")) {
    const auto path = vm["sysctl-profile"].as<std::string>();
    auto p = parse_sysctl_conf(common::read_file_capped(path, common::kMaxProfileFileBytes, "sysctl profile"));
    fail_on_parse_errors(path, p.errors);
    out.overlay.overlay(p.profile);
    sources.push_back("file:" + path);
  }
  if (vm.count("sysctl")) {
    for (const auto& f : vm["sysctl"].as<std::vector<std::string>>())
      if (auto err = parse_sysctl_flag(f, out.overlay)) fail_on_parse_errors("--sysctl", {*err}, kExitUsage);
    sources.push_back("custom");
  }
  for (const auto& s : sources) out.name += (out.name.empty() ? "" : "+") + s;
  return out;
}

AnalyzedRuns analyze_traces(const std::vector<std::string>& files, ClassifyOptions opts,
                            const std::function<void(const RunAggregate&)>& on_loaded,
                            const std::function<std::string(size_t)>& fd_name) {
  if (files.empty()) throw common::Error("no trace given", "pass one or more files written by capaudit-record", kExitUsage);
  // Descriptor inputs are read as stdin ("-", which group_runs leaves a run
  // of its own, in order), each made stdin in turn.
  std::vector<std::string> paths = files;
  std::vector<std::pair<int, std::string>> fds;  // (descriptor, run name), in input order
  for (size_t i = 0; fd_name && i < files.size(); ++i) {
    if (files[i].rfind("fd:", 0) != 0) continue;
    const std::string n = files[i].substr(3);
    if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos)
      throw common::Error("bad input '" + files[i] + "'", "fd:N names an open descriptor", kExitUsage);
    fds.emplace_back(std::stoi(n), fd_name(i));
    paths[i] = "-";
  }
  size_t next_fd = 0;
  AnalyzedRuns out;
  std::vector<RunAggregate>& runs = out.runs;
  for (const auto& piece_set : group_runs(paths)) {
    std::string name = piece_set.paths.front();
    if (name == "-" && next_fd < fds.size()) {
      const auto& [fd, fd_run] = fds[next_fd++];
      if (dup2(fd, STDIN_FILENO) < 0) throw common::Error(common::errno_message("fd:" + std::to_string(fd), errno));
      name = fd_run;
    }
    RunAggregate run = load_run(piece_set);
    run.path = name == "-" ? run.path : name;
    if (run.read.status == common::ReadStatus::error)
      throw common::Error(name + ": " + run.read.message, "", kExitError);
    if (on_loaded) on_loaded(run);
    out.exit_code = worst_exit(out.exit_code, exit_code_for(run.read));
    runs.push_back(std::move(run));
  }
  out.options = std::move(opts);
  out.options.tool_version = CAPAUDIT_VERSION;
  out.report = classify(runs, out.options);
  if (!out.report.complete) out.exit_code = worst_exit(out.exit_code, kExitIncomplete);
  for (const auto& ri : out.report.runs)
    for (const auto& why : ri.incomplete_reasons) out.incomplete.push_back(ri.path + ": " + why);
  return out;
}

AnalyzedRuns analyze_traces(const std::vector<std::string>& files, const ProfileChoice& profile) {
  ClassifyOptions opts;
  opts.overlay = profile.overlay;
  opts.profile_name = profile.name;
  return analyze_traces(files, std::move(opts));
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
