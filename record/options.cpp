#include "record/options.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "common/error.h"

namespace capaudit::record {
namespace po = boost::program_options;

namespace {

uint64_t parse_size(const std::string& text) {
  // "16M", "512K", "1G" or bytes
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  std::string suffix = end ? end : "";
  if (suffix == "K" || suffix == "k") v <<= 10;
  else if (suffix == "M" || suffix == "m") v <<= 20;
  else if (suffix == "G" || suffix == "g") v <<= 30;
  else if (!suffix.empty() || text.empty()) throw common::Error("bad size '" + text + "'", "use e.g. 16M", 2);
  return v;
}

uint64_t parse_duration_ms(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string suffix = end ? end : "";
  double mult = 1000;  // seconds by default
  if (suffix == "ms") mult = 1;
  else if (suffix == "s" || suffix.empty()) mult = 1000;
  else if (suffix == "m") mult = 60'000;
  else if (suffix == "h") mult = 3'600'000;
  else throw common::Error("bad duration '" + text + "'", "use e.g. 30s, 500ms, 10m", 2);
  if (v <= 0) throw common::Error("duration must be positive", "", 2);
  return static_cast<uint64_t>(v * mult);
}

}  // namespace

ParsedCommandLine parse_command_line(int argc, char** argv) {
  ParsedCommandLine out;
  RecordOptions& o = out.options;
  for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);

  int split = argc;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--") {
      split = i;
      break;
    }
  for (int i = split + 1; i < argc; ++i) o.command.emplace_back(argv[i]);

  std::string hook = "auto", ringbuf = "16M", duration, outcomes, facts = "auto";
  long pid = 0;
  po::options_description target("Target (exactly one)");
  target.add_options()
      ("pid,p", po::value<long>(&pid), "attach to a running process and its future children")
      ("cgroup", po::value<std::string>(&o.cgroup), "record every task in a cgroup v2 directory")
      ("container", po::value<std::string>(&o.container),
       "record a running podman (or docker) container: the engine names its cgroup; the runtime's own "
       "work there (runc init of a podman exec) is kept apart by the analyzer")
      ("user", po::value<std::string>(&o.user), "run CMD as this user (name or uid)")
      ("caps", po::value<std::string>(&o.caps), "run CMD with only these capabilities (e.g. cap_net_raw,cap_chown)")
      ("service", po::value<std::string>(&o.service),
       "start the unit's ExecStart= (or -- CMD) the way systemd would: User=, Group=, SupplementaryGroups=, "
       "DynamicUser=, CapabilityBoundingSet=, AmbientCapabilities=, NoNewPrivileges= (docs/configs.md)");
  po::options_description output("Output");
  output.add_options()
      ("output,o", po::value<std::string>(&o.output), "trace file to create (never overwritten); - for stdout")
      ("verbose,v", po::bool_switch(&o.verbose), "libbpf messages, the hook chosen, and the status line even on a pipe")
      ("no-status", "never print the live status line");
  po::options_description rec("Recording");
  rec.add_options()
      ("hook", po::value<std::string>(&hook), "capability hook: auto|tp_btf|fexit|kprobe (default auto)")
      ("stacks-per-key", po::value<uint32_t>(&o.stacks_per_key),
       "kernel stacks captured per (process, capability, syscall, verdict); 0 = none (default 4)")
      ("ringbuf-size", po::value<std::string>(&ringbuf), "ring buffer size (default 16M)")
      ("outcomes", po::value<std::string>(&outcomes),
       "return values of syscalls with a denied check: all|first-denial|off. Tracking them slows every "
       "syscall on the host while on; first-denial (default) starts at the first denied check, all "
       "(default with --user/--caps/--service) from the start")
      ("facts", po::value<std::string>(&facts),
       "bind/socket facts from: auto (cgroup programs, no host-wide cost; sockets the kernel refuses, e.g. "
       "outside ping_group_range, are not seen) or sys_exit (every attempt with its result, host-wide cost)")
      ("duration", po::value<std::string>(&duration), "stop after this long (30s, 500ms, 10m)");
  po::options_description misc("Other");
  misc.add_options()("help,h", "show this help")("version", "print the version");
  po::options_description all;
  all.add(target).add(output).add(rec).add(misc);

  std::ostringstream help;
  help << "Usage: capaudit-record [OPTIONS] -o FILE -- CMD [ARGS...]\n"
          "       capaudit-record [OPTIONS] -o FILE -p PID\n"
          "       capaudit-record [OPTIONS] -o FILE --cgroup PATH\n"
          "       capaudit-record [OPTIONS] -o FILE --container NAME|ID\n\n"
          "Records every Linux capability check made by a program (and its children),\n"
          "with its process lifecycle, denied-syscall outcomes and sysctl-sensitive\n"
          "operations, into a trace for capaudit-analyze.\n\n"
       << all
       << "\nExamples:\n"
          "  sudo capaudit-record -o ping.cat -- ping -c1 127.0.0.1\n"
          "  sudo capaudit-record -o svc.cat --cgroup /sys/fs/cgroup/system.slice/nginx.service --duration 1h\n"
          "  sudo capaudit-record -o app.cat --user nobody -- ./app   # shows what an unprivileged run is denied\n"
          "  sudo capaudit-record -o web.cat --service /etc/systemd/system/web.service\n"
          "  sudo capaudit-record -o db.cat --container db --duration 10m\n\n"
          "Needs CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN). Exit status: the command's own\n"
          "status in command mode, 0 after -p/--cgroup/--container, 1 on errors, 2 on bad usage.\n";
  out.help_text = help.str();

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(split, argv).options(all).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw common::Error(e.what(), "see capaudit-record --help", 2);
  }
  if (vm.count("help")) {
    out.show_help = true;
    return out;
  }
  if (vm.count("version")) {
    out.show_version = true;
    return out;
  }
  if (vm.count("no-status")) o.status_line = false;
  if (!parse_hook_choice(hook, o.hook))
    throw common::Error("unknown hook '" + hook + "'", "use auto, tp_btf, fexit or kprobe", 2);
  if (!outcomes.empty()) {
    OutcomeMode mode{};
    if (!parse_outcome_mode(outcomes, mode))
      throw common::Error("unknown --outcomes '" + outcomes + "'", "use all, first-denial or off", 2);
    o.outcomes = mode;
  }
  if (!parse_facts_choice(facts, o.facts))
    throw common::Error("unknown --facts '" + facts + "'", "use auto or sys_exit", 2);
  o.ringbuf_bytes = parse_size(ringbuf);
  if (!duration.empty()) o.duration_ms = parse_duration_ms(duration);
  if (vm.count("pid")) {
    if (pid <= 0) throw common::Error("bad pid", "", 2);
    o.pid = static_cast<pid_t>(pid);
  }
  return out;
}

}  // namespace capaudit::record
