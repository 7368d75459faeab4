// `capaudit-analyze dump FILE`: every event on one line, time-ordered within
// each batch, with capability and syscall names resolved.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "analyze/cli/commands.h"
#include "analyze/cli/options.h"
#include "analyze/cli/symbol_options.h"
#include "analyze/core/findings.h"
#include "analyze/core/quote.h"
#include "common/capabilities.h"
#include "common/error.h"
#include "common/syscalls.h"

namespace capaudit::analyze::cli {
namespace {

// Every string from the trace is printed through visible() (one line, no raw
// control bytes); a field that could contain a space is quoted to stay one word.
std::string word(const std::string& s) {
  const std::string v = visible(s);
  return v.empty() || v.find_first_of(" \"") != std::string::npos ? visible_quoted(s) : v;
}

const std::set<std::string> kKinds = {"check", "fork", "exec", "exit", "outcome", "capset", "operation", "stack", "ustack", "window"};

// A user-space frame as recorded (format 1.6), unsymbolized: "path+0xoff
// [build-id]" as far as the file is known, else the raw address.
std::string user_frame_text(const common::UserFrame& f) {
  char hex[32];
  std::string out;
  if (f.has_offset) {
    snprintf(hex, sizeof(hex), "+0x%llx", static_cast<unsigned long long>(f.file_offset));
    out = (f.path.empty() ? std::string("?") : word(f.path)) + hex;
    if (!f.build_id.empty()) out += " [" + f.build_id + "]";
    if (f.ip) {
      snprintf(hex, sizeof(hex), " ip=0x%llx", static_cast<unsigned long long>(f.ip));
      out += hex;
    }
    return out;
  }
  snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(f.ip));
  out = hex;
  if (!f.path.empty()) out += " " + word(f.path);
  if (!f.build_id.empty()) out += " [" + f.build_id + "]";
  return out;
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ",";
    out += visible_quoted(v[i]);
  }
  return out + "]";
}

// Full sets (root, the default bounding set) would drown the line: say "ALL".
std::string caps_text(uint64_t mask) {
  if (mask == 0) return "-";
  const int last = common::last_known_cap();
  const uint64_t all = last >= 63 ? ~0ull : (uint64_t{1} << (last + 1)) - 1;
  if ((mask & all) != all) return common::cap_mask_names(mask);
  const uint64_t extra = mask & ~all;
  return extra ? "ALL," + common::cap_mask_names(extra) : "ALL";
}

class DumpVisitor : public common::TraceVisitor {
 public:
  DumpVisitor(std::ostream& out, std::set<std::string> kinds, std::optional<uint32_t> pid,
              symbolize::Symbolizer* symbols = nullptr)
      : out_(out), kinds_(std::move(kinds)), pid_(pid), symbols_(symbols) {}

  void on_header(const common::Header& h) override {
    syscalls_.emplace(h.arch);
    out_ << "# " << visible(h.target) << " on " << visible(h.hostname) << " " << visible(h.kernel_release) << " ("
         << visible(h.arch) << "), hook "
         << common::to_string(h.hook) << "\n";
  }

  void on_stacks(std::span<const common::KernelStack> s) override {
    if (!want("stack")) return;
    for (const auto& st : s) {
      std::string line = "stack id=" + std::to_string(st.id);
      for (const auto& f : st.frames) line += " " + word(f);
      lines_.push_back({0, line});
    }
  }
  void on_user_stacks(std::span<const common::UserStack> s) override {
    if (!want("ustack")) return;
    for (const auto& st : s) {
      std::string line = "ustack id=" + std::to_string(st.id) + " frames=" + std::to_string(st.frames.size());
      for (const auto& f : st.frames) line += " | " + user_frame_text(f) + symbol_text(f);
      if (st.leaf) {  // 1.7: the word at [sp] at syscall entry, and whether the analysis takes it as frame 1
        char code[40] = "";
        if (st.leaf->has_code)
          std::snprintf(code, sizeof code, " code=%016llx", static_cast<unsigned long long>(st.leaf->code_before));
        const bool taken = analyze::user_frames_of(st).entry_sp >= 0;
        line += " || sp-word " + user_frame_text(st.leaf->word) + (taken ? symbol_text(st.leaf->word) : "") + code +
                (taken ? " (the caller: frame 1)" : " (not a frame)");
      }
      lines_.push_back({0, line});
    }
  }
  // " -> main (src/x.c:12) [debuginfo]"; "" when nothing names the frame
  // (`report` says why) or without symbolization.
  std::string symbol_text(const common::UserFrame& f) {
    if (!symbols_) return "";
    const auto sym = symbols_->symbolize(f, true);
    if (sym.function.empty()) return "";
    std::string out = " -> " + word(sym.function);
    if (sym.line) out += " (" + word(sym.file) + ":" + std::to_string(sym.line) + ")";
    return out + " [" + symbolize::to_string(sym.source) + "]";
  }
  void on_forks(std::span<const common::ForkEvent> ev) override {
    if (!want("fork")) return;
    for (const auto& e : ev) {
      if (!match(e.parent_pid) && !match(e.child_pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " fork parent=" << e.parent_pid << "/" << e.parent_tid
        << " child=" << e.child_pid << "/" << e.child_tid << (e.is_thread ? " thread" : " process")
        << " start=" << e.child_start_time_ns;
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_execs(std::span<const common::ExecEvent> ev) override {
    if (!want("exec")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " exec pid=" << e.pid << " tid=" << e.tid;
      if (e.old_tid) s << " old_tid=" << e.old_tid;
      s << " file=" << word(e.filename) << " argv=" << quoted_list(e.argv) << (e.argv_truncated ? "..." : "")
        << " uid=" << e.uid << " gid=" << e.gid << " euid=" << e.euid << " egid=" << e.egid
        << " eff=" << caps_text(e.caps.effective) << " prm=" << caps_text(e.caps.permitted)
        << " inh=" << caps_text(e.caps.inheritable) << " amb=" << caps_text(e.caps.ambient);
      if (e.file_caps) {
        s << " filecaps=v" << e.file_caps->version << ":" << caps_text(e.file_caps->permitted)
          << (e.file_caps->effective ? "+ep" : "+p");
      }
      s << " cgroup=" << word(e.cgroup) << " userns=" << e.userns_inum << " netns=" << e.netns_inum;
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_capsets(std::span<const common::CapsetEvent> ev) override {
    if (!want("capset")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " capset pid=" << e.pid << " tid=" << e.tid << " eff=" << caps_text(e.effective)
        << " prm=" << caps_text(e.permitted) << " inh=" << caps_text(e.inheritable);
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_cap_checks(std::span<const common::CapCheck> ev) override {
    if (!want("check")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " check pid=" << e.pid << " tid=" << e.tid << " " << common::cap_name(e.cap)
        << (e.granted ? " granted" : " DENIED") << " syscall=" << syscall(e.syscall_nr) << " opts=" << e.opts
        << " userns=" << e.target_userns_inum << " stack=" << e.stack_id;
      if (e.user_stack_id) s << " ustack=" << e.user_stack_id;  // 1.6
      if (e.time_spread_ns) s << " within_ns=" << e.time_spread_ns;  // an untimed repeat
      if (e.checked_cred != common::CheckedCred::own)  // 1.5: borrowed credentials
        s << " cred=" << (e.checked_cred == common::CheckedCred::derived ? "derived" : "foreign")
          << " cred_euid=" << e.checked_euid;
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_outcomes(std::span<const common::SyscallOutcome> ev) override {
    if (!want("outcome")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " outcome pid=" << e.pid << " tid=" << e.tid << " syscall=" << syscall(e.syscall_nr)
        << " ret=" << e.ret;
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_operations(std::span<const common::OperationFact> ev) override {
    if (!want("operation")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " operation pid=" << e.pid << " tid=" << e.tid << " " << common::to_string(e.kind)
        << " syscall=" << syscall(e.syscall_nr);
      if (e.kind == common::OpKind::cap_check)
        s << " " << common::cap_name(e.cap) << (e.granted ? " granted" : " denied") << " stack=" << e.stack_id;
      else
        s << " a0=" << e.a0 << " a1=" << e.a1 << " a2=" << e.a2 << " a3=" << e.a3;
      s << " uid=" << e.uid << " gid=" << e.gid;
      if (e.kind != common::OpKind::cap_check) s << " ret=" << (e.ret ? std::to_string(*e.ret) : "?");
      auto list = [&](const char* name, const std::vector<int64_t>& v) {
        if (v.empty()) return;
        s << " " << name << "=[";
        for (size_t i = 0; i < v.size(); ++i)
          s << (i ? "," : "") << (v[i] == common::kStateUnset ? std::string("-") : std::to_string(v[i]));
        s << "]";
      };
      list("args", e.args);
      list("user", e.user_words);
      list("state", e.state);
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  // Each record of a window as written: one when it opens (the denial that
  // attached the syscall-exit tracepoint), one when it closes (1.6).
  void on_outcome_windows(std::span<const common::OutcomeWindow> ws) override {
    if (!want("window")) return;
    for (const auto& w : ws) {
      if (!match(w.trigger_pid)) continue;
      std::ostringstream s;
      if (w.closed_by == common::WindowEnd::open) {
        s << format_seconds(w.start_ns) << " window opened start=" << format_seconds(w.start_ns);
      } else {
        s << format_seconds(w.end_ns) << " window closed start=" << format_seconds(w.start_ns)
          << " end=" << format_seconds(w.end_ns) << " by=" << common::to_string(w.closed_by)
          << " denials=" << w.denials;
      }
      s << " trigger pid=" << w.trigger_pid << " tid=" << w.trigger_tid << " "
        << (w.trigger_cap >= 0 ? common::cap_name(w.trigger_cap) : std::string("?"))
        << " syscall=" << syscall(w.trigger_syscall) << " at=" << format_seconds(w.trigger_time_ns);
      lines_.push_back({w.closed_by == common::WindowEnd::open ? w.start_ns : w.end_ns, s.str()});
    }
  }
  void on_exits(std::span<const common::ExitEvent> ev) override {
    if (!want("exit")) return;
    for (const auto& e : ev) {
      if (!match(e.pid)) continue;
      std::ostringstream s;
      s << format_seconds(e.time_ns) << " exit pid=" << e.pid << " tid=" << e.tid << " status=" << e.exit_code
        << (e.group_dead ? " process-ended" : " thread-ended");
      lines_.push_back({e.time_ns, s.str()});
    }
  }
  void on_batch_end(uint64_t) override {
    // Stacks (time 0) stay first so ids are defined before checks use them.
    std::stable_sort(lines_.begin(), lines_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& l : lines_) out_ << l.second << "\n";
    lines_.clear();
  }
  void on_trailer(const common::Trailer& t) override {
    out_ << "# end: " << (t.clean_shutdown ? "clean" : "unclean") << " shutdown, " << visible(t.stop_reason) << "\n";
  }

 private:
  bool want(const std::string& kind) const { return kinds_.empty() || kinds_.count(kind); }
  bool match(uint32_t pid) const { return !pid_ || *pid_ == pid; }
  std::string syscall(int nr) const { return syscalls_ ? syscalls_->name(nr) : common::syscall_name(nr); }

  std::ostream& out_;
  std::set<std::string> kinds_;
  symbolize::Symbolizer* symbols_ = nullptr;  // ustack frames: function and line
  std::optional<uint32_t> pid_;
  std::optional<common::SyscallTable> syscalls_;
  std::vector<std::pair<uint64_t, std::string>> lines_;
};

}  // namespace

int cmd_dump(const std::vector<std::string>& args) {
  po::options_description filter("Filter");
  filter.add_options()("kind,k", po::value<std::vector<std::string>>()->composing(),
                       "only events of this kind (repeatable): check, fork, exec, exit, outcome, capset, operation, stack, ustack,\n"
                       "window (when the syscall-exit tracepoint was attached and why)")(
      "pid,p", po::value<uint32_t>(), "only events of this process id");
  const CommandHelp help{"capaudit-analyze dump [OPTIONS] FILE",
                         "Prints the events of a trace, one per line: time (CLOCK_BOOTTIME seconds),\n"
                         "kind, then fields. Capability and syscall names are resolved for the\n"
                         "trace's architecture. Lines are time-ordered within each batch. User-space\n"
                         "frames (ustack) are symbolized from the binaries and debuginfo by build ID\n"
                         "(-> function (file:line) [source]) unless --no-symbolize.",
                         "  capaudit-analyze dump run.cap\n  capaudit-analyze dump -k check -k outcome -p 1234 run.cap\n"};
  const po::options_description syms = symbol_options();
  auto vm = parse_command(args, {filter, syms}, help);
  if (!vm) return kExitOk;
  if (!vm->count("files")) throw common::Error("no input file", "give a trace file ('-' = stdin)", kExitUsage);
  const auto files = (*vm)["files"].as<std::vector<std::string>>();
  if (files.size() != 1) throw common::Error("dump reads exactly one trace", "run it once per file", kExitUsage);
  std::set<std::string> kinds;
  if (vm->count("kind")) {
    for (const auto& k : (*vm)["kind"].as<std::vector<std::string>>()) {
      if (!kKinds.count(k)) throw common::Error("unknown event kind '" + k + "'", "see 'capaudit-analyze dump --help'", kExitUsage);
      kinds.insert(k);
    }
  }
  std::optional<uint32_t> pid;
  if (vm->count("pid")) pid = (*vm)["pid"].as<uint32_t>();

  std::optional<symbolize::Symbolizer> symbolizer;
  if (auto o = read_symbol_options(*vm)) symbolizer.emplace(*o);
  DumpVisitor v(std::cout, kinds, pid, symbolizer ? &*symbolizer : nullptr);
  const CheckedRead r = read_trace_checked(files[0], v);
  // Events stream out as they are read, so the verdict comes last.
  if (r.read.status != common::ReadStatus::error && !r.incomplete.empty())
    std::cout << "# " << incomplete_banner(r.incomplete) << "\n";
  std::cout.flush();
  report_incomplete(files[0], r);
  return r.exit_code;
}

}  // namespace capaudit::analyze::cli
