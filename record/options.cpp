#include "record/options.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "common/command_line.h"
#include "common/error.h"

namespace capaudit::record {
namespace po = boost::program_options;

namespace {

// Every number on the command line is parsed strictly: digits only (no sign,
// no spaces, no hex, no exponent), checked for overflow and for the range the
// recorder can honour. strtoull/strtod/boost would quietly turn "-1" into
// 2^64-1, "nan" into a stop at once and "17179869184G" into 4096.
[[noreturn]] void bad(const std::string& option, const std::string& text, const std::string& why,
                      const std::string& hint) {
  throw common::Error(option + " '" + text + "': " + why, hint, 2);
}

// Leading decimal digits of text as a uint64_t; *rest = what follows. False on
// no digits or overflow.
bool leading_digits(const std::string& text, uint64_t* value, std::string* rest) {
  size_t i = 0;
  uint64_t v = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (i == 0) return false;
  *value = v;
  *rest = text.substr(i);
  return true;
}

// --max-size: digits with an optional K/M/G (binary) suffix, at least 64K
// (a header and a batch must fit), with no overflow, sign or other text.
uint64_t parse_max_size(const std::string& text, const std::string& option = "--max-size") {
  const common::Error bad("bad " + option + " '" + text + "'", "use e.g. 512M or 2G (at least 64K)", 2);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) throw bad;
  const std::string suffix = text.substr(digits);
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (!suffix.empty()) throw bad;
  const uint64_t v = std::stoull(text.substr(0, digits));
  if (v > (UINT64_MAX >> shift) || (v << shift) < (64u << 10)) throw bad;
  return v << shift;
}

}  // namespace

uint64_t parse_ringbuf_size(const std::string& text) {
  const std::string opt = "--ringbuf-size";
  const std::string hint = "give a size from 4K to 2G (e.g. 16M); it is rounded up to a power of two";
  uint64_t v = 0;
  std::string suffix;
  if (!leading_digits(text, &v, &suffix)) {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') bad(opt, text, "too large", hint);
    bad(opt, text, "not a size", hint);
  }
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (!suffix.empty()) bad(opt, text, "unknown unit '" + suffix + "'", hint);
  if (v > (kMaxRingbufBytes >> shift)) bad(opt, text, "too large (at most 2G: the kernel's ring buffer size is 32-bit)", hint);
  v <<= shift;
  if (v < kMinRingbufBytes) bad(opt, text, "too small (at least 4K, one page)", hint);
  return v;
}

uint64_t parse_duration_ms(const std::string& option, const std::string& text, bool allow_zero) {
  const std::string hint = "give e.g. 30s, 500ms, 1.5m or 2h (at most 8760h)";
  // [0-9]+ ( . [0-9]+ )? (ms|s|m|h)?  -- no sign, exponent, inf or nan.
  uint64_t whole = 0;
  std::string rest;
  if (!leading_digits(text, &whole, &rest)) {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') bad(option, text, "too long (at most 8760h, a year)", hint);
    bad(option, text, "not a duration", hint);
  }
  uint64_t frac = 0, frac_scale = 1;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
      if (frac_scale < 1'000'000'000ull) {  // digits past nanoseconds cannot matter
        frac = frac * 10 + static_cast<uint64_t>(rest[i] - '0');
        frac_scale *= 10;
      }
    }
    if (i == 1) bad(option, text, "not a duration", hint);
    rest = rest.substr(i);
  }
  uint64_t unit_ms = 1000;
  if (rest == "ms") unit_ms = 1;
  else if (rest == "s" || rest.empty()) unit_ms = 1000;
  else if (rest == "m") unit_ms = 60'000;
  else if (rest == "h") unit_ms = 3'600'000;
  else bad(option, text, "unknown unit '" + rest + "'", hint);
  if (whole > kMaxDurationMs / unit_ms) bad(option, text, "too long (at most 8760h, a year)", hint);
  const uint64_t ms = whole * unit_ms + frac * unit_ms / frac_scale;
  if (ms > kMaxDurationMs) bad(option, text, "too long (at most 8760h, a year)", hint);
  if (ms == 0 && (whole != 0 || frac != 0)) bad(option, text, "shorter than 1ms", hint);
  if (ms == 0 && !allow_zero) bad(option, text, "must be at least 1ms", hint);
  return ms;
}

uint64_t parse_count(const std::string& option, const std::string& text, uint64_t min, uint64_t max) {
  const std::string hint = "give a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  uint64_t v = 0;
  std::string rest;
  if (!leading_digits(text, &v, &rest)) {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') bad(option, text, "out of range", hint);
    bad(option, text, "not a whole number", hint);
  }
  if (!rest.empty()) bad(option, text, "not a whole number", hint);
  if (v < min || v > max) bad(option, text, "out of range", hint);
  return v;
}

bool parse_end_action(const std::string& text, EndAction& out) {
  if (text == "detach") out = EndAction::detach;
  else if (text == "term") out = EndAction::term;
  else if (text == "kill") out = EndAction::kill;
  else return false;
  return true;
}

ParsedCommandLine parse_command_line(int argc, char** argv) {
  ParsedCommandLine out;
  RecordOptions& o = out.options;
  for (int i = 0; i < argc; ++i) o.argv.emplace_back(argv[i]);

  auto [split, command] = common::split_at_double_dash(argc, argv);
  o.command = std::move(command);

  std::string hook = "auto", ringbuf = "16M", duration, max_size, outcomes, facts = "auto", stacks = "4", pid, grace = "3s",
              on_end = "detach", user_stacks = "sampled", outcome_window = "1s", split_size, split_time,
              paths = std::to_string(CAPAUDIT_PATH_SIGS);
  po::options_description target("Target (exactly one)");
  target.add_options()
      ("pid,p", po::value<std::string>(&pid), "attach to a running process and its future children")
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
      ("stacks-per-key", po::value<std::string>(&stacks),
       "kernel stacks captured per (process, capability, syscall, verdict), 0 to 65535; 0 = none (default 4)")
      ("paths-per-key", po::value<std::string>(&paths),
       "past --stacks-per-key, a check on a call path new to its key still takes a stack, up to this many "
       "distinct paths per key, 0 to 8 (default 8; 0 = only the first --stacks-per-key). The first 32 checks "
       "past the budget are compared by path (a short stack walk), then the 64th, 128th, ...")
      ("user-stacks", po::value<std::string>(&user_stacks),
       "user-space call paths: sampled (default: with each kernel stack, i.e. within the --stacks-per-key "
       "budget, named by build ID and file offset) or off. Frames the kernel could not walk (code built "
       "without frame pointers) are not there")
      ("ringbuf-size", po::value<std::string>(&ringbuf), "ring buffer size, 4K to 2G (default 16M)")
      ("outcomes", po::value<std::string>(&outcomes),
       "return values of syscalls with a denied check: all|first-denial|off. Tracking them slows every "
       "syscall on the host while on; first-denial (default) starts at the first denied check that can matter "
       "(never an advisory one: CAP_OPT_NOAUDIT, or a call path of the noise catalogue), all "
       "(default with --user/--caps/--service) from the start")
      ("outcome-window", po::value<std::string>(&outcome_window),
       "with first-denial: detach the syscall-exit tracepoint again once no denied check that can matter "
       "came for this long, re-attach on the next (default 1s, at most 1h; 0 = stay attached). Each window "
       "is in the trace; a denial outside every window has no outcome recorded")
      ("facts", po::value<std::string>(&facts),
       "operation facts from: auto (bind/socket from cgroup programs, no host-wide cost; sockets the kernel "
       "refuses, e.g. outside ping_group_range, are not seen) or sys_exit (every bind/socket attempt with its "
       "result, and the other operations the sysctl/rlimit rules name (mlock, syslog, perf_event_open, bpf, "
       "opens of /proc/kallsyms and /dev/kmsg, ...) even where no capability check happened, so that a "
       "stricter profile predicts them; host-wide cost. Hard links too, at may_linkat(), where the kernel "
       "allows fentry or kprobes; the trace says when it does not)")
      ("duration", po::value<std::string>(&duration),
       "end the recording after this long (30s, 500ms, 10m; at most 8760h); what happens to a command "
       "still running is --on-end")
      ("on-end", po::value<std::string>(&on_end),
       "a command (-- CMD) still running when the recording ends before it (--duration, a second "
       "SIGINT/SIGTERM, --grace run out): detach (default: it runs on, untraced), term (SIGTERM, up to "
       "--grace more recording, then SIGKILL) or kill (SIGKILL). A failed recording always detaches")
      ("max-size", po::value<std::string>(&max_size),
       "stop once the trace has reached this size (e.g. 512M, 2G; at most a second of events and the trailer "
       "more); the trailer says so and the analyzer counts the run as incomplete")
      ("split-size", po::value<std::string>(&split_size),
       "write the trace as numbered files (FILE.0001.cap, FILE.0002.cap, ... for -o FILE.cap), a new one once "
       "this size is reached (e.g. 256M; at least 64K); each is a whole trace, and capaudit-analyze given all "
       "of them reads one run")
      ("split-time", po::value<std::string>(&split_time),
       "the same, a new file after this long (e.g. 1h, 10m)")
      ("grace", po::value<std::string>(&grace),
       "after SIGINT/SIGTERM reached the command (passed on, or --on-end term), keep recording this long "
       "for it to end (default 3s, 0 to 1h)");
  po::options_description misc("Other");
  misc.add_options()("help,h", "show this help")("version", "print the version");
  po::options_description all;
  all.add(target).add(output).add(rec).add(misc);

  std::ostringstream help;
  help << "Usage: capaudit-record [OPTIONS] -o FILE -- CMD [ARGS...]\n"
          "   or: capaudit-record [OPTIONS] -o FILE -p PID\n"
          "   or: capaudit-record [OPTIONS] -o FILE --cgroup PATH\n"
          "   or: capaudit-record [OPTIONS] -o FILE --container NAME|ID\n\n"
          "Records every Linux capability check made by a program (and its children),\n"
          "with its process lifecycle, denied-syscall outcomes and sysctl-sensitive\n"
          "operations, into a trace for capaudit-analyze.\n\n"
       << all
       << "\nExamples:\n"
          "  sudo capaudit-record -o ping.cap -- ping -c1 127.0.0.1\n"
          "  sudo capaudit-record -o svc.cap --cgroup /sys/fs/cgroup/system.slice/nginx.service --duration 1h\n"
          "  sudo capaudit-record -o app.cap --user nobody -- ./app   # shows what an unprivileged run is denied\n"
          "  sudo capaudit-record -o web.cap --service /etc/systemd/system/web.service\n"
          "  sudo capaudit-record -o db.cap --container db --duration 10m\n\n"
          "Needs CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN): run it as root or through sudo;\n"
          "a setuid or file-capability copy is refused.\n\n"
          "Exit status: the command's own status in command mode (128+N if it was killed\n"
          "by signal N), 0 after -p/--cgroup/--container and when --duration ended the recording of\n"
          "a command that runs on; 1 on errors, including a recording that failed part\n"
          "way (write error, full disk, the reader of -o - went away): the trace then\n"
          "ends at its last complete batch and is marked incomplete, and the command\n"
          "runs on untraced; 2 on bad usage.\n";
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
  o.hook = parse_hook_choice(hook).or_throw();
  if (!outcomes.empty()) o.outcomes = parse_outcome_mode(outcomes).or_throw();
  o.facts = parse_facts_choice(facts).or_throw();
  o.ringbuf_bytes = parse_ringbuf_size(ringbuf);
  o.stacks_per_key = static_cast<uint32_t>(parse_count("--stacks-per-key", stacks, 0, kMaxStacksPerKey));
  o.paths_per_key = static_cast<uint32_t>(parse_count("--paths-per-key", paths, 0, CAPAUDIT_PATH_SIGS));
  if (user_stacks == "sampled") o.user_stacks = true;
  else if (user_stacks == "off") o.user_stacks = false;
  else throw common::Error("unknown --user-stacks '" + user_stacks + "'", "use sampled or off", 2);
  if (vm.count("duration")) o.duration_ms = parse_duration_ms("--duration", duration, false);
  o.grace_ms = parse_duration_ms("--grace", grace, true);
  if (o.grace_ms > kMaxGraceMs) throw common::Error("--grace '" + grace + "': too long (at most 1h)", "", 2);
  if (!parse_end_action(on_end, o.on_end))
    throw common::Error("unknown --on-end '" + on_end + "'", "use detach, term or kill", 2);
  if (vm.count("max-size")) o.max_size_bytes = parse_max_size(max_size);
  if (vm.count("split-size")) o.split_bytes = parse_max_size(split_size, "--split-size");
  if (vm.count("split-time")) o.split_ms = parse_duration_ms("--split-time", split_time, false);
  if ((o.split_bytes || o.split_ms) && o.output == "-")
    throw common::Error("--split-size/--split-time write numbered files", "give -o FILE, not -o -", 2);
  o.outcome_window_ms = parse_duration_ms("--outcome-window", outcome_window, true);
  if (o.outcome_window_ms > kMaxGraceMs)
    throw common::Error("--outcome-window '" + outcome_window + "': too long (at most 1h)", "", 2);
  if (vm.count("pid")) o.pid = static_cast<pid_t>(parse_count("--pid", pid, 1, kMaxPid));
  if ((vm.count("on-end") || vm.count("grace")) && o.command.empty() && o.service.empty())
    throw common::Error("--on-end and --grace are about a command the recorder starts",
                        "use them with -- CMD ARGS or --service; -p/--cgroup targets are never signalled", 2);
  return out;
}

}  // namespace capaudit::record
