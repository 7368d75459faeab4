// `capaudit-analyze report`: load -> merge -> classify -> render. Every piece
// of analysis lives in analyze/core; this file only turns options into a
// ClassifyOptions, files into findings (analyze_traces, as every command
// does), and the report into bytes.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>

#include "analyze/cli/commands.h"
#include "analyze/cli/verified.h"
#include "analyze/cli/config_support.h"
#include "analyze/cli/options.h"
#include "analyze/cli/symbol_options.h"
#include "analyze/config/check.h"
#include "analyze/config/from_report.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "analyze/core/verdict.h"
#include "analyze/symbolize/report.h"
#include "common/error.h"
#include "common/input_limits.h"

namespace capaudit::analyze::cli {
namespace {

void write_output(const std::string& path, const std::string& text) {
  int fd = 1;
  if (path != "-") {
    // Never overwrite silently: an existing file is an error.
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      int err = errno;
      throw common::Error(common::errno_message("create " + path, err),
                          err == EEXIST ? "remove it first or choose another -o name" : "", kExitError);
    }
  }
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      if (fd != 1) ::close(fd);
      throw common::Error(common::errno_message("write " + path, err), "", kExitError);
    }
    off += static_cast<size_t>(n);
  }
  if (fd != 1 && ::close(fd) != 0) throw common::Error(common::errno_message("close " + path, errno), "", kExitError);
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  po::options_description out_opts("Output");
  out_opts.add_options()
      ("format,f", po::value<std::string>()->default_value("text"), "text, json or yaml")
      ("output,o", po::value<std::string>()->default_value("-"), "write to FILE ('-' = stdout); never overwrites")
      ("width", po::value<int>(), "wrap text at N columns (default: the terminal's width, else 100)")
      ("color", po::value<std::string>()->default_value("auto"), "auto, always or never (auto: only on a terminal)")
      ("full", "text: every section, empty ones included, with call paths and how facts were gathered")
      ("config", po::value<std::string>()->default_value("systemd,docker"),
       "text: the config formats to end with, comma separated: systemd, docker, podman, compose, kubernetes, "
       "setcap, filecap, c, python, all, or none")
      ("trace-name", po::value<std::string>(),
       "with one trace: the name the report gives it (capaudit names the --keep copy)")
      ("exit-code", "exit 4 when the verdict says the run failed (the command did not start, exited non-zero, "
                    "or was denied an operation it needed)")
      ("verified", po::value<std::vector<std::string>>()->composing(),
       "FILE (repeatable): a `capaudit verify --result` file; the report says what it proved");
  const po::options_description prof = profile_options();
  po::options_description decl("Declared capabilities");
  decl.add_options()
      ("declared-caps", po::value<std::string>(),
       "capabilities the deployment grants (\"CAP_NET_RAW,net_admin\"): those never exercised are reported")
      ("declared", po::value<std::vector<std::string>>()->composing(),
       "FILE (repeatable): a systemd unit (CapabilityBoundingSet=, AmbientCapabilities=), a Kubernetes manifest "
       "or compose file (capabilities.add / cap_add, the runtime default set), or a list of capability names; "
       "what it grants but no run exercised is reported, with the setting it came from");
  CommandHelp help{
      "capaudit-analyze report [OPTIONS] TRACE...",
      "Classifies the capability checks of one or more traces (required, conditional on sysctls/rlimits,\n"
      "advisory noise, denied, capset-only, startup-only, declared but unobserved), merges runs with\n"
      "coverage, and recommends the smallest set. With a profile option the traces are re-evaluated\n"
      "against other sysctl/rlimit values and the report lists what appears or vanishes, and why.\n"
      "The text opens with the verdict: what to grant to which executable and what for, and whether\n"
      "the run can be trusted (complete, the command started and exited 0, no denial that made an\n"
      "operation fail); a run that failed says so there and in every config. With user stacks in the\n"
      "trace each capability names the program's call site (\"`bind` in `main_bind80` (helper.c:123)\"),\n"
      "symbolized here from the binaries and debuginfo by build ID. Then only the sections\n"
      "with content (--full: all), then the configs asked for (--config). JSON/YAML are always complete.\n"
      "Rules and their kernel facts: docs/analysis.md; JSON/YAML schema: docs/report-schema.md.",
      "  capaudit-analyze report trace.cap\n"
      "  capaudit-analyze report -f json -o report.json run1.cap run2.cap run3.cap\n"
      "  capaudit-analyze report --config kubernetes,setcap trace.cap\n"
      "  capaudit-analyze report --full --config all trace.cap\n"
      "  capaudit-analyze report --profile docker trace.cap\n"
      "  capaudit-analyze report --sysctl net.ipv4.ip_unprivileged_port_start=1024 trace.cap\n"
      "  capaudit-analyze report --sysctl-profile /etc/sysctl.d/99-hardening.conf trace.cap\n"
      "  capaudit-analyze report --declared /etc/systemd/system/webd.service --declared k8s/web.yaml trace.cap\n"
      "  capaudit-analyze report --debuginfo /srv/host-root trace.cap\n"};
  const po::options_description syms = symbol_options();
  auto vm = parse_command(args, {out_opts, prof, decl, syms}, help);
  if (!vm) return kExitOk;
  if (!vm->count("files")) throw common::Error("no trace given", "capaudit-analyze report TRACE...", kExitUsage);
  const auto files = (*vm)["files"].as<std::vector<std::string>>();
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "text" && format != "json" && format != "yaml")
    throw common::Error("unknown format '" + format + "'", "use -f text, json or yaml", kExitUsage);
  const std::string output = (*vm)["output"].as<std::string>();
  const auto symbols = read_symbol_options(*vm);
  std::vector<ConfigFormat> config_formats;
  if (const auto list = (*vm)["config"].as<std::string>(); list != "none") {
    auto parsed = parse_config_list(list);
    if (auto* e = std::get_if<std::string>(&parsed))
      throw common::Error(*e, "formats: systemd docker podman compose kubernetes setcap filecap c python, all or none",
                          kExitUsage);
    config_formats = std::get<std::vector<ConfigFormat>>(parsed);
  }
  if (output != "-" && ::access(output.c_str(), F_OK) == 0)  // fail before the work, not after
    throw common::Error("create " + output + ": File exists", "remove it first or choose another -o name", kExitError);

  ClassifyOptions opts;
  std::vector<std::string> declared_notes;  // what a deployment file's grant assumes
  const ProfileChoice profile = read_profile_options(*vm);
  opts.overlay = profile.overlay;
  opts.profile_name = profile.name;
  if (vm->count("declared-caps")) {
    auto g = grant_from_caps_list((*vm)["declared-caps"].as<std::string>());
    if (auto* err = std::get_if<std::string>(&g)) throw common::Error(*err, "e.g. --declared-caps CAP_NET_RAW,CAP_CHOWN", kExitUsage);
    opts.declared.push_back({std::get<Grant>(g).caps, "--declared-caps"});
  }
  if (vm->count("declared")) {
    for (const auto& path : (*vm)["declared"].as<std::vector<std::string>>()) {
      auto g = grant_from_deployment(common::read_file_capped(path, common::kMaxDeploymentFileBytes, "deployment file"), path);
      if (auto* err = std::get_if<std::string>(&g))
        throw common::Error(*err, "--declared takes a systemd unit, a Kubernetes manifest, a compose file or a list of capability names", kExitError);
      for (const auto& part : std::get<Grant>(g).parts) opts.declared.push_back({part.caps, path + ": " + part.origin});
      for (const auto& note : std::get<Grant>(g).notes) declared_notes.push_back("Declared by " + path + ": " + note);
    }
  }

  // One line naming each damaged file and what is wrong with it, as it is
  // read; `info` would only say the same.
  AnalyzedRuns analyzed = analyze_traces(files, opts, [](const RunAggregate& run) {
    if (run.read.status != common::ReadStatus::complete) report_read_problem(run.path, run.read);
  });
  const std::vector<RunAggregate>& runs = analyzed.runs;
  opts = analyzed.options;
  int code = analyzed.exit_code;
  Report report = std::move(analyzed.report);
  report.notes.insert(report.notes.end(), declared_notes.begin(), declared_notes.end());
  if (vm->count("trace-name") && report.runs.size() == 1) report.runs[0].path = (*vm)["trace-name"].as<std::string>();
  if (symbols) {
    symbolize::Symbolizer symbolizer(*symbols);
    symbolize::symbolize_report(report, symbolizer);
  }

  std::vector<VerifiedLine> verified;
  if (vm->count("verified"))
    for (const auto& f : (*vm)["verified"].as<std::vector<std::string>>()) verified.push_back(read_verified(f, report));
  if (format == "yaml")
    for (const auto& v : verified) report.notes.push_back(v.text);

  std::string text;
  if (format == "json") {
    text = insert_verified_json(render_json(report), verified);
  } else if (format == "yaml") {
    text = render_yaml(report);
  } else {
    TextOptions t;
    const bool tty = output == "-" && ::isatty(1);
    winsize ws{};
    if (vm->count("width")) t.width = (*vm)["width"].as<int>();
    else if (tty && ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t.width = ws.ws_col;
    const auto color = (*vm)["color"].as<std::string>();
    t.colour = color == "always" || (color == "auto" && tty && std::getenv("NO_COLOR") == nullptr);
    t.full = vm->count("full") > 0;
    if (!config_formats.empty()) {
      // Each format under its runtime's defaults unless a profile was given.
      RuntimeConfigs configs(runs, opts, profile.given());
      t.appendix = render_report_configs(configs, config_formats, verdict_warning(make_verdict(report)));
    }
    text = insert_verified_text(render_text(report, t), verified);
  }
  write_output(output, text);
  if (!report.complete)
    std::cerr << "capaudit-analyze report: input incomplete; the findings cover what was recorded (exit " << kExitIncomplete
              << ")\n";
  if (vm->count("exit-code") && make_verdict(report).run_failed) code = worst_exit(code, kExitNegative);
  return code;
}

}  // namespace capaudit::analyze::cli
