// `capaudit-analyze info FILE...`: every header section, the trailer, what was
// actually read, and whether the trace is complete.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <sstream>

#include "analyze/cli/commands.h"
#include "analyze/cli/options.h"
#include "analyze/core/quote.h"
#include "common/capabilities.h"
#include "common/error.h"

namespace capaudit::analyze::cli {
namespace {

// Every string from the trace is printed through visible(): one line, no raw
// control bytes. The recorder's command line shows each argument as a word.
std::string join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += visible(s);
  }
  return out;
}

std::string join_words(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += " ";
    const std::string w = visible(s);
    out += w.empty() || w.find_first_of(" \"") != std::string::npos ? visible_quoted(s) : w;
  }
  return out;
}

std::string limit_value(uint64_t v) { return v == UINT64_MAX ? "unlimited" : std::to_string(v); }

// Counts what the reader delivered, to compare with the trailer's claims.
struct InfoVisitor : common::TraceVisitor {
  std::ostream& out;
  common::EventCounts seen;
  size_t processes = 0;
  explicit InfoVisitor(std::ostream& o) : out(o) {}

  void on_header(const common::Header& h) override {
    out << "format:         " << h.format_major << "." << h.format_minor << "\n";
    out << "[recorder]\n"
        << "  version:      " << visible(h.recorder_version) << "\n"
        << "  command line: " << join_words(h.recorder_argv) << "\n"
        << "  target:       " << common::to_string(h.target_mode) << " " << visible(h.target) << "\n";
    out << "[host]\n"
        << "  hostname:     " << visible(h.hostname) << "\n"
        << "  kernel:       " << visible(h.kernel_release) << " " << visible(h.kernel_version) << "\n"
        << "  arch:         " << visible(h.arch) << "\n"
        << "  boot id:      " << visible(h.boot_id) << "\n"
        << "  lockdown:     " << visible(h.lockdown) << "\n"
        << "  LSMs:         " << join(h.lsms, ",") << "\n"
        << "  init userns:  " << h.init_userns_inum << "\n";
    out << "[clock]\n"
        << "  boottime " << format_seconds(h.clock_boottime_ns) << " s = " << format_wall(h.clock_realtime_ns) << "\n";
    out << "[sysctls]\n";
    for (const auto& kv : h.sysctls_global) out << "  " << visible(kv.key) << " = " << visible(kv.value) << "\n";
    out << "  target netns " << h.target_netns_inum << ":\n";
    for (const auto& kv : h.sysctls_netns) out << "    " << visible(kv.key) << " = " << visible(kv.value) << "\n";
    out << "[target rlimits]\n";
    for (const auto& r : h.target_rlimits) {
      out << "  " << visible(r.name) << " (" << r.resource << "): soft " << limit_value(r.soft) << ", hard " << limit_value(r.hard)
          << "\n";
    }
    out << "[hook]\n"
        << "  used:         " << common::to_string(h.hook) << "\n"
        << "  check opts:   " << (h.opts_available ? "recorded" : "not available from this hook") << "\n"
        << "  bind/socket facts: " << common::to_string(h.facts_source)
        << (h.facts_reason.empty() ? "" : " (" + visible(h.facts_reason) + ")") << "\n"
        << "  denied-syscall outcomes: " << common::to_string(h.outcome_tracking) << "\n"
        << (h.outcome_reason.empty() ? std::string()
                                     : "  outcomes by:  " + std::string(common::to_string(h.outcome_mechanism)) + " (" +
                                           h.outcome_reason + ")\n")
        << "  credential changes: " << (h.cred_changes ? "every one recorded" : "capset() exits only (format < 1.2)")
        << "\n";
    for (const auto& a : h.hook_attempts) {
      out << "  " << (a.used ? "used    " : "skipped ") << common::to_string(a.hook) << ": " << visible(a.reason) << "\n";
    }
    out << "[sampling]\n"
        << "  kernel stacks per key: " << h.stacks_per_key << "\n"
        << "  user stacks:  "
        << (!h.user_stacks ? std::string("no")
                           : h.user_stack_depth ? "yes, up to " + std::to_string(h.user_stack_depth) + " frames each"
                                                : std::string("yes"))
        << "\n"
        << "  ring buffer:  " << h.ringbuf_bytes << " bytes\n"
        << "  max tasks:    " << h.max_tasks << "\n"
        << "  max stacks:   " << h.max_stacks << "\n";
  }
  void on_processes(std::span<const common::ProcessInfo> p) override { processes += p.size(); }
  void on_cap_checks(std::span<const common::CapCheck> e) override {
    seen.cap_checks += e.size();
    for (const auto& c : e) {
      if (!c.time_spread_ns) continue;
      ++untimed;
      max_spread_ns = std::max(max_spread_ns, c.time_spread_ns);
    }
  }
  void on_forks(std::span<const common::ForkEvent> e) override { seen.forks += e.size(); }
  void on_execs(std::span<const common::ExecEvent> e) override { seen.execs += e.size(); }
  void on_exits(std::span<const common::ExitEvent> e) override { seen.exits += e.size(); }
  void on_outcomes(std::span<const common::SyscallOutcome> e) override { seen.outcomes += e.size(); }
  void on_capsets(std::span<const common::CapsetEvent> e) override { seen.capsets += e.size(); }
  void on_operations(std::span<const common::OperationFact> e) override { seen.operations += e.size(); }
  void on_stacks(std::span<const common::KernelStack> e) override { seen.stacks += e.size(); }
  void on_user_stacks(std::span<const common::UserStack> e) override {
    seen.user_stacks += e.size();
    for (const auto& u : e) {
      user_frames += u.frames.size();
      for (const auto& f : u.frames) {
        if (!f.build_id.empty()) ++frames_with_build_id;
        else if (f.has_offset) ++frames_with_file_only;
      }
    }
  }

  void on_trailer(const common::Trailer& t) override {
    out << "[trailer]\n"
        << "  clean shutdown: " << (t.clean_shutdown ? "yes" : "no") << "\n"
        << "  stop reason:  " << visible(t.stop_reason) << "\n"
        << "  end time:     " << format_seconds(t.end_time_ns) << " s (boottime)\n"
        << "  target exit:  ";
    if (!t.target_exit_status) {
      out << "-\n";
    } else {
      const int s = *t.target_exit_status;
      if ((s & 0x7f) == 0) out << "exit code " << ((s >> 8) & 0xff) << "\n";
      else out << "killed by signal " << (s & 0x7f) << "\n";
    }
    // Unsampled stacks are the sampling budget at work, not lost data.
    common::Losses l = t.losses;
    const uint64_t unsampled = l.stacks_unsampled;
    l.stacks_unsampled = 0;
    // A failed user stack walk loses no event and no kernel call path.
    const uint64_t user_stack_fail = l.user_stack_fail;
    l.user_stack_fail = 0;
    const bool lossless = l == common::Losses{};
    out << "  losses:       " << (lossless ? "none" : "SOME EVENTS WERE NOT RECORDED") << "\n";
    if (!lossless) {
      out << "    ring buffer drops:   " << l.ringbuf_drops << "\n"
          << "    task map full:       " << l.task_map_full << "\n"
          << "    stack map full:      " << l.stack_map_full << "\n"
          << "    untraced processes:  " << l.untraced_processes << "\n"
          << "    outcomes missed:     " << l.outcomes_missed << "\n"
          << "    strings truncated:   " << l.strings_truncated << "\n"
          << "    decode errors:       " << l.decode_errors << "\n"
          << "    hook runs skipped:   " << l.hook_misses << " (recursion: one was already running on that CPU)\n";
    }
    if (t.outcomes_from_ns) out << "  outcomes from: " << format_seconds(t.outcomes_from_ns) << " s (boottime)\n";
    if (t.max_size_reached)
      out << "  size limit:   reached (--max-size): the trace is whole, but the target ran on unrecorded\n";
    out << "  stacks:       " << unsampled << " checks without a kernel stack (beyond the per-key budget)\n";
    if (user_stack_fail) out << "  user stacks:  " << user_stack_fail << " sampled checks whose user stack could not be walked\n";
    trailer_counts = t.counts;
    has_trailer = true;
  }

  void print_counts() {
    auto row = [&](const char* name, uint64_t read, uint64_t claimed) {
      out << "  " << name << std::string(14 - std::string(name).size(), ' ') << read;
      if (has_trailer && read != claimed) out << "   (trailer says " << claimed << ")";
      out << "\n";
    };
    out << "[events read]\n";
    out << "  processes in snapshot: " << processes << "\n";
    row("cap checks", seen.cap_checks, trailer_counts.cap_checks);
    if (untimed) {
      out << "    " << untimed << " of them untimed repeats: time known to within " << max_spread_ns << " ns"
          << " at worst\n";
    }
    row("forks", seen.forks, trailer_counts.forks);
    row("execs", seen.execs, trailer_counts.execs);
    row("exits", seen.exits, trailer_counts.exits);
    row("outcomes", seen.outcomes, trailer_counts.outcomes);
    row("capsets", seen.capsets, trailer_counts.capsets);
    row("operations", seen.operations, trailer_counts.operations);
    row("stacks", seen.stacks, trailer_counts.stacks);
    row("user stacks", seen.user_stacks, trailer_counts.user_stacks);
    if (user_frames) {
      out << "    " << user_frames << " frames: " << frames_with_build_id << " named by build ID, " << frames_with_file_only
          << " by file and offset only, " << (user_frames - frames_with_build_id - frames_with_file_only)
          << " by address only\n";
    }
  }

  common::EventCounts trailer_counts;
  bool has_trailer = false;
  uint64_t untimed = 0;  // checks with a time interval (format 1.4)
  uint64_t max_spread_ns = 0;
  uint64_t user_frames = 0, frames_with_build_id = 0, frames_with_file_only = 0;  // format 1.6
};

}  // namespace

int cmd_info(const std::vector<std::string>& args) {
  po::options_description limits("Input limits");
  common::ReadLimits rl;
  limits.add_options()("max-message-bytes", po::value<uint64_t>(&rl.max_message_bytes)->default_value(rl.max_message_bytes),
                       "largest decompressed message accepted");
  const CommandHelp help{
      "capaudit-analyze info [OPTIONS] FILE...",
      "Prints every header section of each trace (recorder, host, clock, sysctls,\n"
      "rlimits, hook, sampling), the trailer (shutdown, exit status, losses), the\n"
      "number of events actually read, and whether the file is complete.",
      "  capaudit-analyze info run.cap\n  capaudit-analyze info samples/*/*.cap\n"};
  auto vm = parse_command(args, {limits}, help);
  if (!vm) return kExitOk;
  if (!vm->count("files")) throw common::Error("no input file", "give one or more trace files ('-' = stdin)", kExitUsage);

  int rc = kExitOk;
  bool first = true;
  for (const auto& path : (*vm)["files"].as<std::vector<std::string>>()) {
    if (!first) std::cout << "\n";
    first = false;
    std::cout << "== " << visible(path) << " ==\n";
    InfoVisitor v(std::cout);
    const CheckedRead cr = read_trace_checked(path, v, rl);
    const common::ReadResult& r = cr.read;
    if (r.has_header) v.print_counts();
    std::cout << "[status]\n  " << common::to_string(r.status) << ": " << visible(r.message) << "\n";
    if (r.status != common::ReadStatus::error) {
      // The same rule as every other command: losses make the input incomplete.
      std::cout << "  input:  " << (cr.incomplete.empty() ? "complete" : "INCOMPLETE (exit 3)") << "\n";
      for (const auto& why : cr.incomplete) std::cout << "    " << visible(why) << "\n";
    }
    report_incomplete(path, cr);
    rc = worst_exit(rc, cr.exit_code);
  }
  return rc;
}

}  // namespace capaudit::analyze::cli
