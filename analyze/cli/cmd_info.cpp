// `capaudit-analyze info FILE...`: every header section, the trailer, what was
// actually read, and whether the trace is complete.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <sstream>

#include "analyze/cli/commands.h"
#include "analyze/cli/options.h"
#include "analyze/core/aggregate.h"
#include "analyze/core/completeness.h"
#include "analyze/core/quote.h"
#include "common/capabilities.h"
#include "common/syscalls.h"
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
    header = h;
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
    // 1.9: the build-configuration symbols the rules read.
    if (!h.kernel_config_source.empty()) {
      out << "  kernel config: " << visible(h.kernel_config_source) << "\n";
      for (const auto& kv : h.kernel_config) out << "    " << visible(kv.key) << " = " << visible(kv.value) << "\n";
    } else if (!h.kernel_config_missing.empty()) {
      out << "  kernel config: unknown (" << visible(h.kernel_config_missing) << ")\n";
    }
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
    if (h.link_facts || !h.link_facts_reason.empty())
      out << "  link facts:   " << (h.link_facts ? "recorded" : "not recorded")
          << (h.link_facts_reason.empty() ? "" : " (" + visible(h.link_facts_reason) + ")") << "\n";
    for (const auto& a : h.hook_attempts) {
      out << "  " << (a.used ? "used    " : "skipped ") << common::to_string(a.hook) << ": " << visible(a.reason) << "\n";
    }
    if (!h.split_run_id.empty())
      out << "[split]\n"
          << "  run id:       " << visible(h.split_run_id) << "\n"
          << "  piece:        " << h.split_piece << "\n";
    out << "[sampling]\n"
        << "  kernel stacks per key: " << h.stacks_per_key << "\n"
        << "  new call paths per key: "
        << (h.paths_per_key ? std::to_string(h.paths_per_key) + " past the budget (a path: " +
                                  std::to_string(h.path_frames) + " frames above the hook; the first " +
                                  std::to_string(h.path_free_checks) + " checks past it compared, then the 2^k-th)"
                            : std::string("none (format < 1.7, or --paths-per-key 0)"))
        << "\n"
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
  void on_outcome_windows(std::span<const common::OutcomeWindow> w) override {
    for (const auto& x : w) windows[x.start_ns] = x;  // the close replaces the open record
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
    // Rate-limited path comparisons are the sampling design too.
    const uint64_t paths_unchecked = l.paths_unchecked;
    l.paths_unchecked = 0;
    // So is a key that met more call paths than --paths-per-key keeps: no
    // event is lost, but a path may be missing (said below).
    const uint64_t paths_full = l.paths_full;
    l.paths_full = 0;
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
    outcome_windows_claimed = t.outcome_windows;
    if (t.continued) out << "  continued:    yes: the recording goes on in the next piece\n";
    if (t.outcomes_from_ns) out << "  outcomes from: " << format_seconds(t.outcomes_from_ns) << " s (boottime)\n";
    if (t.max_size_reached)
      out << "  size limit:   reached (--max-size): the trace is whole, but the target ran on unrecorded\n";
    out << "  stacks:       " << unsampled << " checks without a kernel stack (beyond the per-key budget)\n";
    if (paths_full)
      out << "  call paths:   " << paths_full
          << " checks on a call path new to their key took no stack (the key held --paths-per-key paths): "
             "paths may be missing\n";
    if (paths_unchecked)
      out << "  call paths:   at least " << paths_unchecked
          << " checks past the budget not compared by path (rate limit)\n";
    if (user_stack_fail) out << "  user stacks:  " << user_stack_fail << " sampled checks whose user stack could not be walked\n";
    trailer_counts = t.counts;
    has_trailer = true;
    end_time_ns = t.end_time_ns;
  }

  // in_windows (format 1.6): each stretch the syscall-exit tracepoint was
  // attached, what opened it, and what they cost the host in all.
  void print_windows() {
    if (header.outcome_tracking != common::OutcomeTracking::in_windows) return;
    const uint64_t t0 = header.clock_boottime_ns;
    auto rel = [&](uint64_t ns) { return "+" + format_seconds(ns >= t0 ? ns - t0 : 0) + "s"; };
    uint64_t total = 0;
    for (const auto& [start, w] : windows) total += (w.end_ns ? w.end_ns : std::max(end_time_ns, start)) - start;
    out << "[outcome windows]\n"
        << "  quiet time:   " << format_seconds(header.outcome_window_ns) << " s (--outcome-window)\n"
        << "  outcome windows: " << windows.size() << ", " << format_seconds(total) << " s in all";
    if (has_trailer && end_time_ns > t0 && t0)
      out << " (" << (100.0 * static_cast<double>(total) / static_cast<double>(end_time_ns - t0)) << "% of the recording)";
    out << ": every task on the host took the slow syscall path then\n";
    if (has_trailer && windows.size() != outcome_windows_claimed)
      out << "  (trailer says " << outcome_windows_claimed << " windows)\n";
    size_t shown = 0;
    for (const auto& [start, w] : windows) {
      if (++shown > kMaxWindowsShown) {
        out << "  ... " << windows.size() - kMaxWindowsShown << " more\n";
        break;
      }
      out << "  " << rel(start) << " for "
          << (w.end_ns ? format_seconds(w.end_ns - start) + " s" : std::string("the rest of the trace"))
          << ": opened by pid " << w.trigger_pid << " tid " << w.trigger_tid << " denied "
          << common::cap_name(w.trigger_cap) << " in " << visible(common::syscall_name(w.trigger_syscall, header.arch))
          << " at " << rel(w.trigger_time_ns) << " (its own outcome not recorded), " << w.denials
          << " denial(s) inside, closed: " << common::to_string(w.closed_by) << "\n";
    }
  }
  static constexpr size_t kMaxWindowsShown = 20;
  common::Header header;
  std::map<uint64_t, common::OutcomeWindow> windows;
  uint64_t end_time_ns = 0;
  uint64_t outcome_windows_claimed = 0;

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
  const auto& files = (*vm)["files"].as<std::vector<std::string>>();
  // Pieces of one split recording are read as one run: a piece whose next
  // one is given too is not incomplete for saying the recording continued.
  const std::vector<RunFiles> runs = group_runs(files);
  auto next_piece_given = [&](const std::string& path) {
    for (const auto& run : runs)
      for (size_t i = 0; i + 1 < run.paths.size(); ++i)
        if (run.paths[i] == path && run.pieces[i + 1] == run.pieces[i] + 1) return true;
    return false;
  };
  for (const auto& path : files) {
    if (!first) std::cout << "\n";
    first = false;
    std::cout << "== " << visible(path) << " ==\n";
    InfoVisitor v(std::cout);
    CheckedRead cr = read_trace_checked(path, v, rl);
    if (next_piece_given(path)) {
      std::erase_if(cr.incomplete, [](const std::string& why) { return why.rfind(kSplitContinued, 0) == 0; });
      cr.exit_code = exit_code_for(cr.read, cr.incomplete);
    }
    const common::ReadResult& r = cr.read;
    if (r.has_header) {
      v.print_counts();
      v.print_windows();
    }
    std::cout << "[status]\n  " << common::to_string(r.status) << ": " << visible(r.message) << "\n";
    if (r.status != common::ReadStatus::error) {
      // The same rule as every other command: losses make the input incomplete.
      std::cout << "  input:  " << (cr.incomplete.empty() ? "complete" : "INCOMPLETE (exit 3)") << "\n";
      for (const auto& why : cr.incomplete) std::cout << "    " << visible(why) << "\n";
    }
    report_incomplete(path, cr);
    rc = worst_exit(rc, cr.exit_code);
  }
  // Each split recording as one run: which pieces were given, which are missing.
  for (const auto& run : runs) {
    if (run.run_id.empty()) continue;
    std::cout << "\n== split run " << visible(run.run_id) << ": " << run.paths.size() << " piece(s) given ==\n";
    std::vector<std::string> missing;
    uint32_t expect = 1;
    for (size_t i = 0; i < run.paths.size(); ++i) {
      std::cout << "  piece " << run.pieces[i] << ": " << visible(run.paths[i]) << "\n";
      for (uint32_t p = expect; p < run.pieces[i]; ++p) missing.push_back("piece " + std::to_string(p) + " is missing");
      expect = run.pieces[i] + 1;
    }
    std::cout << "  run:    " << (missing.empty() ? "pieces in order, none missing before the last given"
                                                  : "INCOMPLETE (exit 3)")
              << "\n";
    for (const auto& m : missing) std::cout << "    " << m << "\n";
    if (!missing.empty()) rc = worst_exit(rc, kExitIncomplete);
  }
  return rc;
}

}  // namespace capaudit::analyze::cli
