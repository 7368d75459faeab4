// `capaudit-analyze verify`: the analyzer's half of `capaudit verify`.
//
//   verify --plan [--deploy-as U] [--runtime R] [--caps LIST] TRACE... [-- CMD...]
//       what the re-run must be: the set to grant, the account, and for a
//       runtime the emitted podman flags or the systemd unit to run, one
//       "key value" per line (read by the front command, front/verify.cpp).
//   verify [--deploy-as U] [--runtime R] [--caps LIST] --rerun FILE [--without CAP=FILE]... TRACE...
//       the verdict: the re-run against the original traces (and, with
//       --without, one run per capability left out).
//
// An input may be "fd:N": the trace is read from descriptor N, which the
// front command opened (root's own file; the analysis account never gets a path).
#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <sstream>

#include "analyze/cli/commands.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "analyze/config/configs.h"
#include "analyze/config/from_report.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "analyze/core/completeness.h"
#include "analyze/core/quote.h"
#include "analyze/core/verdict.h"
#include "analyze/core/verify.h"
#include "common/error.h"
#include "common/log.h"

namespace capaudit::analyze::cli {

namespace {

struct Loaded {
  std::vector<RunAggregate> runs;
  std::vector<RunFacts> facts;  // one per run
  int exit_code = kExitOk;
};

// INPUTS (paths or "fd:N", analyze_traces) through the one load path; an
// "fd:N" run is named NAME(i). Each incomplete input is named on stderr.
Loaded load(const std::vector<std::string>& inputs, const std::function<std::string(size_t)>& name) {
  AnalyzedRuns analyzed = analyze_traces(inputs, ClassifyOptions{}, {}, name);
  Loaded out;
  for (auto& run : analyzed.runs) {
    const auto why = incomplete_reasons(run.read, run.has_header, run.trailer);
    for (const auto& w : why) common::log(common::LogLevel::warn, run.path + ": incomplete: " + w);
    out.exit_code = worst_exit(out.exit_code, exit_code_for(run.read, why));
    out.facts.push_back(run_facts(run, why));
    out.runs.push_back(std::move(run));
  }
  return out;
}

struct Plan {
  std::vector<RunAggregate> runs;
  std::vector<RunFacts> facts;
  Report report;
  ConfigInput input;  // the recommendation in the runtime's config format
  CapMask recommended = 0;
  CapMask granted = 0;
  bool original_failed = false;
  int exit_code = kExitOk;
  std::vector<std::string> incomplete;
};

ConfigFormat format_for(const std::string& runtime) {
  return runtime == "podman" ? ConfigFormat::podman : ConfigFormat::systemd;
}

Plan make_plan(const po::variables_map& vm, const std::vector<std::string>& files) {
  if (files.empty()) throw common::Error("no trace given", "pass the traces of the original run(s)", kExitUsage);
  Plan p;
  Loaded l = load(files, [](size_t i) { return "original" + std::to_string(i + 1); });
  p.exit_code = l.exit_code;
  for (const auto& f : l.facts)
    for (const auto& why : f.incomplete_reasons) p.incomplete.push_back(f.path + ": " + why);
  p.facts = std::move(l.facts);
  p.runs = std::move(l.runs);
  const ProfileChoice profile = read_profile_options(vm);
  ClassifyOptions opts;
  opts.tool_version = CAPAUDIT_VERSION;
  opts.overlay = profile.overlay;
  opts.profile_name = profile.name;
  std::optional<RunAs> run_as;
  if (vm.count("deploy-as")) run_as = parse_run_as(vm["deploy-as"].as<std::string>());
  const std::string runtime = vm["runtime"].as<std::string>();
  RuntimeConfigs configs(p.runs, opts, profile.given(), run_as);
  const ConfigFormat format = format_for(runtime);
  p.report = configs.report(format);
  p.input = configs.input(format);
  p.recommended = p.input.all_caps();
  p.granted = p.recommended;
  if (vm.count("caps")) {
    // A set given by hand (to show what a wrong one does): it replaces the
    // recommendation in every executable's place.
    p.granted = 0;
    std::string list = vm["caps"].as<std::string>();
    for (char& c : list)
      if (c == ',') c = ' ';
    std::istringstream words(list);
    for (std::string w; words >> w;) {
      if (w == "none") continue;
      auto cap = cap_from_any_name(w);
      if (!cap) throw common::Error("--caps: unknown capability '" + w + "'", "e.g. --caps cap_chown,cap_net_raw", kExitUsage);
      p.granted |= cap_bit(*cap);
    }
    for (auto& e : p.input.executables) e.caps = e.startup_only = 0;
    if (p.input.executables.empty()) p.input.executables.emplace_back();
    p.input.executables.front().caps = p.granted;
  }
  const Verdict verdict = make_verdict(p.report);
  p.original_failed = verdict.run_failed;
  if (!p.report.complete) p.exit_code = worst_exit(p.exit_code, kExitIncomplete);
  return p;
}

std::string account_text(const ConfigInput& in) {
  if (in.runs_as_root()) return "root";
  return "uid " + std::to_string(in.uid) + " (gid " + std::to_string(in.gid) + ")";
}

std::string recorder_caps(CapMask m) {
  std::string out;
  for (int c : caps_in(m)) out += (out.empty() ? "" : ",") + cap_name_libcap(c);
  return out.empty() ? "none" : out;
}

// An ExecStart= word: double-quoted, C escapes, '%' doubled (specifiers);
// '$' is refused (systemd would expand it as a variable).
std::string systemd_word(const std::string& w) {
  if (w.find('$') != std::string::npos)
    throw common::Error("the command contains '$', which systemd would expand", "use --runtime host", kExitUsage);
  std::string out = "\"";
  for (unsigned char c : w) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '%') {
      out += "%%";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int print_plan(const Plan& p, const po::variables_map& vm, const std::vector<std::string>& command) {
  const std::string runtime = vm["runtime"].as<std::string>();
  std::cout << "caps " << recorder_caps(p.granted) << "\n"
            << "recommended " << recorder_caps(p.recommended) << "\n"
            << "uid " << p.input.uid << "\n"
            << "gid " << p.input.gid << "\n"
            << "root " << (p.input.runs_as_root() ? "yes" : "no") << "\n"
            << "original-failed " << (p.original_failed ? "yes" : "no") << "\n"
            << "complete " << (p.exit_code == kExitOk ? "yes" : "no") << "\n";
  if (runtime == "podman") {
    // The flags exactly as `config --config podman` emits them.
    const std::string text = render_config(ConfigFormat::podman, p.input);
    const auto at = text.find("\npodman run ");
    if (at == std::string::npos) throw common::Error("the podman config has no 'podman run' line");
    std::string line = text.substr(at + 12, text.find('\n', at + 1) - at - 12);
    if (line.size() < 6 || line.substr(line.size() - 6) != " IMAGE")
      throw common::Error("the podman config's line does not end in IMAGE: " + line);
    line.resize(line.size() - 6);
    std::istringstream words(line);
    for (std::string w; words >> w;) std::cout << "podman-arg " << w << "\n";
  }
  if (runtime == "systemd") {
    if (command.empty()) throw common::Error("--runtime systemd needs the command", "... TRACE -- CMD ARGS", kExitUsage);
    // A unit with the command as ExecStart= and the drop-in's settings, as
    // `config --config systemd` emits them.
    std::string exec;
    for (const auto& w : command) exec += (exec.empty() ? "" : " ") + systemd_word(w);
    std::cout << "unit [Service]\nunit ExecStart=" << exec << "\n";
    if (!p.input.runs_as_root()) std::cout << "unit User=" << p.input.uid << "\nunit Group=" << p.input.gid << "\n";
    std::istringstream lines(render_config(ConfigFormat::systemd, p.input));
    bool body = false;
    for (std::string l; std::getline(lines, l);) {
      if (l == "[Service]") {
        body = true;
        continue;
      }
      if (body && !l.empty() && l[0] != '#') std::cout << "unit " << l << "\n";
    }
  }
  if (p.original_failed) {
    std::cerr << "capaudit-analyze verify: the recorded run failed; a recommendation from it proves nothing\n";
    return kExitNegative;
  }
  return p.exit_code;
}

// FILE (created new, never overwritten) or fd:N (opened for us by the front command).
void write_result(const std::string& where, const std::string& json) {
  int fd = -1;
  if (where.rfind("fd:", 0) == 0) {
    const std::string n = where.substr(3);
    if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos)
      throw common::Error("bad --result '" + where + "'", "fd:N names an open descriptor", kExitUsage);
    fd = dup(std::stoi(n));
  } else {
    fd = ::open(where.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  }
  if (fd < 0) throw common::Error(common::errno_message("--result " + where, errno));
  size_t done = 0;
  while (done < json.size()) {
    const ssize_t w = ::write(fd, json.data() + done, json.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = errno;
      ::close(fd);
      throw common::Error(common::errno_message("write --result " + where, err));
    }
    done += static_cast<size_t>(w);
  }
  ::close(fd);
}

}  // namespace

int cmd_verify(const std::vector<std::string>& all_args) {
  // Everything after "--" is the command (for --runtime systemd's ExecStart=).
  std::vector<std::string> args = all_args, command;
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--") {
      command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      args.resize(i);
      break;
    }
  po::options_description opts("Verify");
  opts.add_options()
      ("plan", "print what the re-run must be (set, account, podman flags or systemd unit) and exit")
      ("deploy-as", po::value<std::string>(), "the deployment account USER[:GROUP] (default: as config decides)")
      ("runtime", po::value<std::string>()->default_value("host"),
       "host (ambient capabilities for a non-root user, the bounding set for root), podman or systemd")
      ("caps", po::value<std::string>(), "verify this set instead of the recommended one (e.g. a wrong one)")
      ("rerun", po::value<std::string>(), "the trace of the re-run with the set (FILE or fd:N)")
      ("without", po::value<std::vector<std::string>>()->composing(),
       "CAP=FILE: the trace of a re-run without CAP (--minimize; repeatable)")
      ("result", po::value<std::string>(),
       "also write the result as JSON to FILE (new; or fd:N) for `report --verified`")
      ("command-line", po::value<std::string>(), "the verify command, recorded in the result");
  auto vm = parse_command(args, {opts, profile_options()},
                          {"capaudit-analyze verify [OPTIONS] --rerun FILE TRACE...",
                           "Judges a re-run of the command under the recommended capability set against the "
                           "original recording: it passes when the re-run made no denied check whose syscall then "
                           "failed, ended with the same exit status, and performed the same operations (each "
                           "capability the original run used, per syscall). With --without, each run without one "
                           "capability shows whether that capability is needed. `capaudit verify` records the "
                           "runs and calls this; --plan prints what the re-run must be.",
                           "  capaudit-analyze verify --plan --deploy-as 65534 app.cap\n"
                           "  capaudit-analyze verify --rerun rerun.cap --without CAP_CHOWN=nochown.cap app.cap\n"});
  if (!vm) return kExitOk;
  const std::string runtime = (*vm)["runtime"].as<std::string>();
  if (runtime != "host" && runtime != "podman" && runtime != "systemd")
    throw common::Error("unknown --runtime '" + runtime + "'", "host, podman or systemd", kExitUsage);
  const auto files = vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (vm->count("plan")) return print_plan(make_plan(*vm, files), *vm, command);
  if (!vm->count("rerun")) throw common::Error("no re-run given", "--rerun FILE (or --plan)", kExitUsage);

  Plan p = make_plan(*vm, files);
  VerifyResult r;
  r.granted = p.granted;
  r.recommended = p.recommended;
  r.account = account_text(p.input);
  r.runtime = runtime;
  r.originals = p.facts;
  r.original_failed = p.original_failed;
  // A set given by hand is judged against what the recommendation covers too.
  r.operations = operations_to_cover(p.facts, p.granted | p.recommended);
  int exit_code = p.exit_code;
  const std::string rerun_input = (*vm)["rerun"].as<std::string>();
  Loaded rerun = load({rerun_input}, [](size_t) { return "re-run"; });
  exit_code = worst_exit(exit_code, rerun.exit_code);
  r.rerun = judge_run("the set", p.granted, std::move(rerun.facts.front()), p.facts, r.operations);
  if (vm->count("without")) {
    for (const auto& spec : (*vm)["without"].as<std::vector<std::string>>()) {
      const auto eq = spec.find('=');
      auto cap = eq == std::string::npos ? std::nullopt : cap_from_any_name(spec.substr(0, eq));
      if (!cap) throw common::Error("--without " + spec + ": not CAP=FILE", "e.g. --without CAP_CHOWN=run.cap", kExitUsage);
      const std::string input = spec.substr(eq + 1);
      Loaded l = load({input}, [&](size_t) { return "without " + cap_name_systemd(*cap); });
      const int without_exit = l.exit_code;
      // Without the capability its own operations cannot be granted; the
      // others must still be performed, and what the denial did is the evidence.
      const CapMask rest = p.granted & ~cap_bit(*cap);
      CapEvidence e;
      e.cap = *cap;
      e.name = cap_name_systemd(*cap);
      e.without =
          judge_run("without " + e.name, rest, std::move(l.facts.front()), p.facts, operations_to_cover(p.facts, rest));
      // A run that broke proves the need even when it was cut short (a
      // command that could not start leaves an unfinished trace); one that
      // did not break proves nothing beyond what it recorded.
      if (!e.shown_needed()) exit_code = worst_exit(exit_code, without_exit);
      r.minimize.push_back(std::move(e));
    }
  }
  r.complete = exit_code == kExitOk;
  if (vm->count("command-line")) r.command_line = (*vm)["command-line"].as<std::string>();
  std::cout << render_verify_text(r);
  if (vm->count("result")) write_result((*vm)["result"].as<std::string>(), render_verify_json(r));
  if (!r.passed()) return kExitNegative;
  return exit_code == kExitOk ? kExitOk : worst_exit(exit_code, kExitIncomplete);
}

}  // namespace capaudit::analyze::cli
