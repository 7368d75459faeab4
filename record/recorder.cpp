#include "record/recorder.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <exception>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/trace_io.h"
#include "record/advisory.h"
#include "record/event_decode.h"
#include "record/kernel_stacks.h"
#include "record/user_stacks.h"
#include "record/split_writer.h"
#include "common/log.h"
#include "record/launch.h"
#include "record/service.h"
#include "record/privileges.h"
#include "record/context.h"
#include "record/filecaps.h"
#include "record/container.h"
#include "record/proc_scan.h"

namespace capaudit::record {
namespace {

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

uint64_t cgroup_id_of(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0)
    throw common::Error(common::errno_message("cgroup " + path, errno), "give a cgroup v2 directory");
  if (fs.f_type != CGROUP2_SUPER_MAGIC)
    throw common::Error(path + " is not a cgroup v2 directory",
                        "cgroup v2 is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw common::Error(common::errno_message("cgroup " + path, errno));
  // On cgroup v2 the kernfs node id, which BPF sees as the cgroup id, is the inode number.
  return st.st_ino;
}

// Maps cgroup ids back to paths for exec events, rescanning the hierarchy
// lazily (and at most once a second) when an unknown id shows up.
// Gone, or a zombie nobody reaped yet (-p targets are not our children):
// either way it will make no more capability checks.
bool process_ended(pid_t pid) {
  std::string stat = read_first_line("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return true;
  char state = stat[close + 2];
  return state == 'Z' || state == 'X';
}

class CgroupNames {
 public:
  std::string name(uint64_t id, uint64_t now_ns) {
    if (auto it = names_.find(id); it != names_.end()) return it->second;
    if (now_ns - last_scan_ns_ >= 1'000'000'000ull) {
      last_scan_ns_ = now_ns;
      for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
        struct statfs fs {};
        if (statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
          scan(root, "", 0);
          break;
        }
      }
    }
    auto it = names_.find(id);
    return it == names_.end() ? std::string() : it->second;
  }

 private:
  void scan(const std::string& dir, const std::string& rel, int depth) {
    struct stat st {};
    if (stat(dir.c_str(), &st) == 0) names_[st.st_ino] = rel.empty() ? "/" : rel;
    if (depth > 32) return;
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d) return;
    while (auto* ent = readdir(d.get())) {
      if (ent->d_type != DT_DIR || ent->d_name[0] == '.') continue;
      scan(dir + "/" + ent->d_name, rel + "/" + ent->d_name, depth + 1);
    }
  }
  std::unordered_map<uint64_t, std::string> names_;
  uint64_t last_scan_ns_ = 0;
};

class Session {
 public:
  Session(const RecordOptions& options, BpfSession& bpf, common::TraceWriter& writer, const KernelSymbols& syms,
          const KeepAfterAttach& keep)
      : options_(options), bpf_(bpf), writer_(writer), stacks_(syms), keep_(keep), advisory_(syms),
        user_resolver_(proc_files_) {
    // The libraries the recorder maps itself (libc, ld.so, ...) are the
    // host's: path hints for short-lived processes' frames in them.
    if (options_.user_stacks) {
      if (auto own = proc_files_.maps(static_cast<uint32_t>(getpid())))
        for (const auto& m : *own)
          if (m.executable) user_resolver_.note_file(proc_files_.build_id(static_cast<uint32_t>(getpid()), m), m.path);
    }
  }

  // Called by libbpf, C code an exception must not cross: a failure (the
  // trace cannot be written) is kept, stops this consume with an error, and is
  // rethrown by the recording loop. Records after it are dropped.
  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Session*>(ctx);
    if (self->failure_) return 0;
    try {
      self->handle({static_cast<const uint8_t*>(data), size});
    } catch (...) {
      self->failure_ = std::current_exception();
      return -EIO;
    }
    return 0;
  }
  void rethrow_failure() const {
    if (failure_) std::rethrow_exception(failure_);
  }

  void handle(std::span<const uint8_t> record) {
    losses_.decode_errors += decode_record(record, [this](DecodedEvent& decoded) {
      std::visit([this](auto& e) { this->add(e); }, decoded);
    });
  }

  void add(DecodedCheck& d) {
    if (!d.stack.empty()) {
      bool is_new = false;
      d.check.stack_id = stacks_.intern(d.stack, &scratch_stack_, &is_new);
      if (is_new) {
        writer_.add(scratch_stack_);
        ++counts_.stacks;
      }
    }
    if (d.unsampled) ++losses_.stacks_unsampled;
    if (d.user_stack) {
      // Named now, while the process (and its /proc/PID/maps) may still live.
      scratch_user_stack_.frames = user_resolver_.resolve(d.check.pid, *d.user_stack);
      scratch_user_stack_.leaf = user_resolver_.resolve_leaf(d.check.pid, *d.user_stack, scratch_user_stack_.frames);
      if (!scratch_user_stack_.frames.empty()) {
        bool is_new = false;
        d.check.user_stack_id = user_stacks_.intern(scratch_user_stack_.frames, scratch_user_stack_.leaf, &is_new);
        if (is_new) {
          scratch_user_stack_.id = d.check.user_stack_id;
          writer_.add(scratch_user_stack_);
          ++counts_.user_stacks;
        }
      }
    }
    caps_seen_ |= d.check.cap >= 0 && d.check.cap < 64 ? (1ull << d.check.cap) : 0;
    writer_.add(d.check);
    ++counts_.cap_checks;
    if (d.context) {
      // The fact ids the credentials the kernel checked at this moment; a
      // change before the check was reported ahead of it (capset events).
      d.context->stack_id = d.check.stack_id;
      add(*d.context);
    }
    // A denial that cannot matter never switches the host-wide syscall exit on.
    if (!d.check.granted && !advisory_.is_advisory(d, bpf_.opts_available())) on_denial(d.check);
  }

  // A denied check that can matter: opens an outcome window (this denial's
  // syscall has long returned: the ones after it get their outcome) or keeps
  // the open one open. The capabilities kept for this attach go when no
  // later one can come (from_first_denial: the window never closes).
  void on_denial(const common::CapCheck& c) {
    const auto mode = bpf_.outcome_tracking();
    if (mode != common::OutcomeTracking::from_first_denial && mode != common::OutcomeTracking::in_windows) return;
    last_denial_ns_ = std::max(last_denial_ns_, c.time_ns);
    if (bpf_.outcomes_live()) {
      if (c.time_ns >= window_.start_ns) ++window_.denials;
      return;
    }
    if (outcome_start_failed_) return;
    const auto opened = bpf_.open_outcome_window();
    if (!opened) {
      outcome_start_failed_ = true;
      common::log(common::LogLevel::warn, "denied-syscall outcomes will not be recorded: " + opened.error().message);
      return;
    }
    const uint64_t start = *opened;
    window_ = common::OutcomeWindow{start, 0, c.time_ns, c.pid, c.tid, c.cap, c.syscall_nr, common::WindowEnd::open, 0};
    writer_.add(window_);
    ++windows_;
    if (options_.verbose)
      fprintf(stderr, "capaudit-record: denied check seen (tid %u, capability %d): tracking denied-syscall outcomes%s\n",
              c.tid, c.cap, mode == common::OutcomeTracking::in_windows ? " until a quiet window" : " from now on");
    if (keep_.attach_later && mode == common::OutcomeTracking::from_first_denial) {
      keep_.attach_later = false;
      if (auto err = drop_after_attach(keep_))
        common::log(common::LogLevel::warn, "dropping the capabilities kept for a later attach failed: " + *err);
    }
  }

  // in_windows: closes the open window once no denial that can matter came
  // for the window length (now: BOOTTIME), or at the end of the recording.
  void maybe_close_window(uint64_t now, bool recording_end) {
    if (!bpf_.outcomes_live() || bpf_.outcome_tracking() != common::OutcomeTracking::in_windows) return;
    const uint64_t quiet_since = std::max(last_denial_ns_, window_.start_ns);
    if (!recording_end && now < quiet_since + options_.outcome_window_ms * 1'000'000ull) return;
    const uint64_t end = bpf_.close_outcome_window();
    if (!end) return;
    window_.end_ns = end;
    window_.closed_by = recording_end ? common::WindowEnd::recording_end : common::WindowEnd::quiet;
    windows_ns_ += end - window_.start_ns;
    writer_.add(window_);
    if (options_.verbose)
      fprintf(stderr, "capaudit-record: outcome window closed after %.3f s (%llu denials in it)\n",
              (end - window_.start_ns) / 1e9, static_cast<unsigned long long>(window_.denials));
  }
  uint64_t windows_ = 0;     // opened
  uint64_t windows_ns_ = 0;  // closed ones' total length

  void add(common::ForkEvent& e) {
    if (!e.is_thread) live_.insert(e.child_pid);
    writer_.add(e);
    ++counts_.forks;
  }
  void add(common::ExecEvent& e) {
    // A relative name, or one through /proc or /dev/fd (fexecve, "exec myself"
    // via /proc/self/exe), names no file a config could point at: take the
    // real path while the process still runs. Race-free enough: exec just
    // happened and the link names the same file for the life of the image.
    if (e.filename.empty() || e.filename[0] != '/' || e.filename.rfind("/proc/", 0) == 0 ||
        e.filename.rfind("/dev/fd/", 0) == 0) {
      char buf[4096];
      ssize_t n = readlink(("/proc/" + std::to_string(e.pid) + "/exe").c_str(), buf, sizeof(buf) - 1);
      if (n > 0) e.filename.assign(buf, static_cast<size_t>(n));
    }
    e.cgroup = cgroups_.name(e.cgroup_id, clock_ns(CLOCK_MONOTONIC));
    if (!e.filename.empty() && e.filename[0] == '/') e.file_caps = read_file_caps(e.filename, nullptr);
    if (options_.user_stacks && !e.filename.empty() && e.filename[0] == '/') {
      // A path hint for frames the kernel names by this build ID once the
      // process is gone (keyed by the ID, so a replaced file never lends its path).
      int fd = ::open(e.filename.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd >= 0) {
        user_resolver_.note_file(read_build_id(fd), e.filename);
        ::close(fd);
      }
    }
    live_.insert(e.pid);
    user_resolver_.forget(e.pid);  // a new image: its mappings are new
    writer_.add(e);
    ++counts_.execs;
  }
  void add(common::ExitEvent& e) {
    advisory_.forget(e.tid);
    if (e.group_dead) {
      live_.erase(e.pid);
      user_resolver_.forget(e.pid);
    }
    writer_.add(e);
    ++counts_.exits;
  }
  void add(common::SyscallOutcome& e) {
    writer_.add(e);
    ++counts_.outcomes;
  }
  void add(common::CapsetEvent& e) {
    writer_.add(e);
    ++counts_.capsets;
  }
  void add(common::OperationFact& e) {
    writer_.add(e);
    ++counts_.operations;
  }

  // Processes we saw start and not yet end; a lost exit must not keep the
  // recorder waiting forever, so vanished pids are pruned.
  bool tree_alive() {
    for (auto it = live_.begin(); it != live_.end();) {
      if (process_ended(static_cast<pid_t>(*it))) it = live_.erase(it);
      else ++it;
    }
    return !live_.empty();
  }

  void fill_losses(const BpfCounters& c, uint64_t hook_misses) {
    losses_.hook_misses = hook_misses;
    losses_.ringbuf_drops = c[CAPAUDIT_CNT_RINGBUF_DROPS];
    losses_.task_map_full = c[CAPAUDIT_CNT_TASK_MAP_FULL];
    losses_.untraced_processes = c[CAPAUDIT_CNT_TASK_MAP_FULL];
    losses_.stack_map_full = c[CAPAUDIT_CNT_STACK_FAIL];
    losses_.outcomes_missed = c[CAPAUDIT_CNT_OUTCOMES_MISSED];
    losses_.strings_truncated = c[CAPAUDIT_CNT_STR_TRUNCATED];
    losses_.user_stack_fail = c[CAPAUDIT_CNT_USTACK_FAIL];
    losses_.paths_full = c[CAPAUDIT_CNT_PATHS_FULL];
    losses_.paths_unchecked = c[CAPAUDIT_CNT_PATHS_UNCHECKED];
  }
  const ResolveStats& user_frame_stats() const { return user_resolver_.stats(); }

  common::EventCounts counts_;
  common::Losses losses_;
  uint64_t caps_seen_ = 0;
  std::exception_ptr failure_;
  std::set<uint32_t> live_;

 private:
  const RecordOptions& options_;
  BpfSession& bpf_;
  common::TraceWriter& writer_;
  StackTable stacks_;
  KeepAfterAttach keep_;
  AdvisoryDenials advisory_;
  bool outcome_start_failed_ = false;
  common::OutcomeWindow window_;  // the open (or last) outcome window
  uint64_t last_denial_ns_ = 0;   // the latest denial that can matter
  common::KernelStack scratch_stack_;
  CgroupNames cgroups_;
  ProcFiles proc_files_;
  UserStackResolver user_resolver_;
  UserStackTable user_stacks_;
  common::UserStack scratch_user_stack_;
};

struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

// What starts the syscall-exit tracepoint for outcomes, in the trace's words.
std::string outcome_reason(const BpfSession& bpf, uint32_t stacks_per_key) {
  switch (bpf.outcome_tracking()) {
    case common::OutcomeTracking::off: return "--outcomes off";
    case common::OutcomeTracking::from_start:
      return bpf.facts_source() == common::FactsSource::sys_exit
                 ? "syscall-exit tracepoint from the start: it carries the bind/socket facts"
                 : "syscall-exit tracepoint from the start (--outcomes all, the default with --user/--caps/--service)";
    case common::OutcomeTracking::from_first_denial:
    case common::OutcomeTracking::in_windows: break;
  }
  std::string why = bpf.outcome_tracking() == common::OutcomeTracking::in_windows
                        ? "syscall-exit tracepoint in windows: attached on a denied check that can matter, detached "
                          "again after a quiet time without one (--outcome-window); no denial with CAP_OPT_NOAUDIT"
                        : "syscall-exit tracepoint from the first denied check that can matter: none with CAP_OPT_NOAUDIT";
  why += bpf.opts_available() ? "" : " (this hook gives no opts)";
  why += stacks_per_key ? ", none on a call path of the noise catalogue (a check without a stack counts as "
                          "its thread's stacked checks of the same capability and syscall did)"
                        : "; --stacks-per-key 0: call paths unknown, so any other denial starts it";
  return why;
}

common::Header make_header(const RecordOptions& options, const BpfSession& bpf) {
  common::Header h;
  h.recorder_version = CAPAUDIT_VERSION;
  h.recorder_argv = options.argv;
  if (!options.command.empty()) {
    h.target_mode = common::TargetMode::command;
    for (const auto& a : options.command) h.target += (h.target.empty() ? "" : " ") + a;
    if (!options.service.empty()) h.target += " (unit " + options.service + ")";
  } else if (options.pid) {
    h.target_mode = common::TargetMode::pid;
    h.target = std::to_string(*options.pid);
  } else {
    h.target_mode = common::TargetMode::cgroup;
    h.target = options.container.empty() ? options.cgroup : options.container + " in " + options.cgroup;
  }
  // host, kernel, clock and sysctl sections: fill_system_context()
  h.hook = bpf.hook();
  h.hook_attempts = bpf.attempts();
  h.opts_available = bpf.opts_available();
  h.facts_source = bpf.facts_source();
  h.facts_reason = bpf.facts_reason();
  h.cred_changes = true;  // bpf/capaudit.bpf.c check_cred() at every check, fork and exit
  h.outcome_tracking = bpf.outcome_tracking();
  h.outcome_mechanism =
      bpf.outcome_tracking() == common::OutcomeTracking::off ? common::OutcomeMechanism::none : common::OutcomeMechanism::sys_exit;
  h.outcome_reason = outcome_reason(bpf, options.stacks_per_key);
  if (bpf.outcome_tracking() == common::OutcomeTracking::in_windows)
    h.outcome_window_ns = options.outcome_window_ms * 1'000'000ull;
  h.stacks_per_key = options.stacks_per_key;
  if (options.stacks_per_key && options.paths_per_key) {
    h.paths_per_key = options.paths_per_key;
    h.path_frames = CAPAUDIT_PATH_FRAMES;
    h.path_free_checks = CAPAUDIT_FREE_WALKS;
  }
  // User stacks ride on the kernel stack budget: no budget, none.
  h.user_stacks = options.user_stacks && options.stacks_per_key > 0;
  h.user_stack_depth = h.user_stacks ? CAPAUDIT_MAX_USTACK_DEPTH : 0;
  h.ringbuf_bytes = bpf.ringbuf_bytes();
  return h;
}

// DESIGN: never fall back silently. A first-choice hook is the normal case and
// stays quiet unless -v; any fallback is said on stderr with each reason.
void report_hook_choice(const std::vector<common::HookAttempt>& attempts, bool verbose) {
  bool fell_back = false;
  std::string used = "none";
  std::string skipped;
  for (const auto& a : attempts) {
    if (a.used) {
      used = common::to_string(a.hook);
      break;
    }
    fell_back = true;
    skipped += std::string(skipped.empty() ? "" : "; ") + common::to_string(a.hook) + " skipped: " + a.reason;
  }
  if (!fell_back && !verbose) return;
  fprintf(stderr, "capaudit-record: hook %s%s%s%s\n", used.c_str(), skipped.empty() ? "" : " (",
          skipped.c_str(), skipped.empty() ? "" : ")");
}

std::string describe_losses(const common::Losses& l) {
  uint64_t total = total_lost(l);
  return total == 0 ? "none" : std::to_string(total);
}

}  // namespace

uint64_t total_events(const common::EventCounts& c) {
  return c.cap_checks + c.forks + c.execs + c.exits + c.outcomes + c.capsets + c.operations;
}

uint64_t total_lost(const common::Losses& l) {
  return l.ringbuf_drops + l.task_map_full + l.stack_map_full + l.outcomes_missed + l.decode_errors + l.hook_misses;
}

int exit_code_for(const RecordResult& result) {
  if (result.failure) return result.failure->exit_code;
  if (!result.target_status) return 0;
  int st = *result.target_status;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 0;
}

RecordResult run_recording(const RecordOptions& given) {
  // --service: the unit decides the command and how it starts, all checked
  // before anything is loaded (record/service.h).
  RecordOptions options = given;
  std::optional<LaunchOptions> service_launch;
  if (!given.service.empty()) {
    if (!given.user.empty() || !given.caps.empty())
      throw common::Error("--service takes the user and capabilities from the unit", "drop --user/--caps", 2);
    std::vector<std::string> notes;
    service_launch = launch_options_for_unit(given.service, given.command, &notes);
    for (const auto& n : notes) common::log(common::LogLevel::info, "service: " + n);
    options.command = service_launch->argv;
  }
  int modes = (!options.command.empty()) + (options.pid.has_value()) + (!options.cgroup.empty()) +
              (!options.container.empty());
  if (modes != 1)
    throw common::Error("give exactly one target: -- CMD ARGS, -p PID, --cgroup PATH or --container NAME",
                        "see --help", 2);
  if (!options.container.empty()) {
    // The engine names the cgroup; from here on it is --cgroup.
    std::string error, hint;
    auto c = resolve_container(options.container, &error, &hint);
    if (!c) throw common::Error(error, hint, 1);
    options.cgroup = c->cgroup_dir;
    options.container = c->engine + " container " + c->name + " (" + c->id.substr(0, 12) + ")";
    if (options.verbose)
      fprintf(stderr, "capaudit-record: %s runs in %s\n", options.container.c_str(), c->cgroup_dir.c_str());
  }
  if (options.output.empty()) throw common::Error("no output file", "give -o FILE (or -o - for stdout)", 2);

  auto privileges = check_recording_privileges();
  if (!privileges.ok) throw common::Error(privileges.message, privileges.hint, 1);


  BpfConfig config;
  config.hook = options.hook;
  config.stacks_per_key = options.stacks_per_key;
  config.paths_per_key = options.paths_per_key;
  config.user_stacks = options.user_stacks && options.stacks_per_key > 0;
  config.ringbuf_bytes = options.ringbuf_bytes;
  config.recorder_tgid = getpid();
  config.verbose = options.verbose;
  config.facts = options.facts;
  // Running the target with fewer privileges is done to see its denials, so
  // their outcomes matter from the first one on.
  config.outcomes = options.outcomes ? *options.outcomes
                    : (!options.user.empty() || !options.caps.empty() || !options.service.empty())
                        ? OutcomeMode::all
                        : OutcomeMode::first_denial;
  config.outcome_window_ns = options.outcome_window_ms * 1'000'000ull;
  if (!options.cgroup.empty()) {
    config.cgroup_id = cgroup_id_of(options.cgroup);
    config.cgroup_path = options.cgroup;
  }

  std::vector<pid_t> tree;
  if (options.pid) {
    for (uint32_t p : process_tree(static_cast<uint32_t>(*options.pid)).pids) tree.push_back(static_cast<pid_t>(p));
    if (tree.empty())
      throw common::Error("no process " + std::to_string(*options.pid), "check the pid with ps", 2);
  }

  // Resolve everything the user can get wrong before loading anything.
  LaunchOptions launch;
  if (service_launch) {
    launch = *service_launch;
  } else if (!options.command.empty()) {
    launch.argv = options.command;
    std::string error;
    if (!options.user.empty()) {
      launch.user = resolve_user(options.user, &error);
      if (!launch.user) throw common::Error(error, "give a user name or a numeric uid", 2);
    }
    if (!options.caps.empty()) {
      launch.caps = parse_cap_list(options.caps, &error);
      if (!launch.caps) throw common::Error(error, "e.g. --caps cap_net_bind_service,cap_net_raw (or none)", 2);
    }
  }

  auto bpf = BpfSession::open(config).or_throw();
  report_hook_choice(bpf->attempts(), options.verbose);
  // Like a hook fallback, a facts fallback is said: it costs the whole host.
  if (options.verbose || (config.facts == FactsChoice::automatic &&
                          bpf->facts_source() != common::FactsSource::cgroup_hooks)) {
    fprintf(stderr, "capaudit-record: bind/socket facts from %s; denied-syscall outcomes %s: %s\n",
            bpf->facts_reason().c_str(), common::to_string(bpf->outcome_tracking()),
            outcome_reason(*bpf, options.stacks_per_key).c_str());
  }
  // After loading, so our own programs have symbols and can be told apart;
  // while privileged, as without CAP_SYSLOG kallsyms shows only zeros.
  KernelSymbols syms = KernelSymbols::load();
  // Created only once the BPF side works, so a failed start leaves no file behind.
  common::OutputOptions out_opts;
  apply_invoking_user(out_opts);
  std::unique_ptr<common::TraceWriter> writer;
  SplitWriter* split = nullptr;
  if (options.split_bytes || options.split_ms) {
    auto w = std::make_unique<SplitWriter>(options.output, out_opts,
                                           SplitOptions{options.split_bytes, options.split_ms * 1'000'000ull});
    split = w.get();
    writer = std::move(w);
  } else {
    writer = common::TraceWriter::create(options.output, out_opts);
  }

  std::unique_ptr<Launcher> child;
  if (!options.command.empty()) {
    std::string error;
    // -o -: stdout carries the trace, so the command's output goes to stderr.
    launch.stdout_to_stderr = options.output == "-";
    child = Launcher::start(launch, &error);
    if (!child) throw common::Error(error, "", 2);
    bpf->expect_exec(child->pid());
  } else if (options.pid) {
    bpf->mark_processes(tree);
  } else {
    bpf->mark_cgroup_members();
  }

  // The context snapshot enters the target's netns and mounts securityfs
  // privately: take it before the capabilities go.
  pid_t context_pid = child ? child->pid() : options.pid ? *options.pid : getpid();
  common::Header header = make_header(options, *bpf);
  for (const auto& warning : fill_system_context(header, context_pid))
    if (options.verbose) fprintf(stderr, "capaudit-record: context: %s\n", warning.c_str());

  // Processes already running (-p, --cgroup): their image and credentials
  // from /proc, while privileged (/proc/PID/exe of another uid's process, a
  // worker that dropped to nobody, needs CAP_SYS_PTRACE). After marking them,
  // so a fork between the two is a fork event rather than a gap.
  std::vector<common::ProcessInfo> running;
  // The containers under the cgroup, named while podman still answers a root
  // without capabilities as root.
  if (!options.cgroup.empty()) header.containers = containers_under(options.cgroup);
  if (options.pid) {
    running = read_processes(std::vector<uint32_t>(tree.begin(), tree.end()));
  } else if (!options.cgroup.empty()) {
    std::string error;
    if (auto members = cgroup_processes(options.cgroup, true, &error)) running = read_processes(*members);
    else common::log(common::LogLevel::warn, "cgroup members: " + error);
  }

  // Attached, output open, target held: from here on the recorder needs
  // (almost) nothing, so it keeps (almost) nothing.
  KeepAfterAttach keep;
  keep.signal_other_uid = launch.user.has_value() && launch.user->uid != 0;
  keep.bpf_map_access = read_first_line("/proc/sys/kernel/unprivileged_bpf_disabled") != "0";
  // Split output creates its later pieces after the drop: beside the first,
  // in a directory that may be the invoking user's (DAC_OVERRIDE), owned by
  // that user under sudo (CHOWN).
  if (split) keep.extra |= (1ull << CAP_DAC_OVERRIDE) | (out_opts.owner_uid >= 0 ? (1ull << CAP_CHOWN) : 0);
  // in_windows re-attaches on every window: CAP_BPF stays for the recording.
  keep.attach_later = bpf->outcome_tracking() == common::OutcomeTracking::from_first_denial ||
                      bpf->outcome_tracking() == common::OutcomeTracking::in_windows;
  if (auto err = drop_after_attach(keep)) throw common::Error("dropping capabilities failed: " + *err);

  writer->write_header(header);
  if (!running.empty()) writer->write_processes(running);

  Session session(options, *bpf, *writer, syms, keep);
  if (split)
    split->set_running_trailer([&session, &bpf]() {
      session.fill_losses(bpf->read_counters(), bpf->hook_misses());
      common::Trailer t;
      t.end_time_ns = clock_ns(CLOCK_BOOTTIME);
      t.losses = session.losses_;
      t.outcome_windows = session.windows_;
      t.outcome_windows_ns = session.windows_ns_;
      return t;
    });
  std::unique_ptr<ring_buffer, RingBufferDeleter> rb(
      ring_buffer__new(bpf->ringbuf_fd(), &Session::on_record, &session, nullptr));
  if (!rb) throw common::Error(common::errno_message("opening the ring buffer", errno));

  SignalForwarder signals(child ? child->pid() : 0);
  int signals_seen = 0;
  RecordResult result;
  // A terminal gets one line rewritten in place; -v prints it on a pipe too,
  // a line a second, so a log shows progress and losses as they happen.
  const bool tty = isatty(STDERR_FILENO);
  const bool show_status = options.status_line && (tty || options.verbose);
  const uint64_t start_ns = clock_ns(CLOCK_MONOTONIC);
  const uint64_t grace_ns = options.grace_ms * 1'000'000ull;
  uint64_t last_status_ns = 0;
  // Set once SIGINT/SIGTERM reached the command (passed on, or --on-end
  // term): the recording goes on until then for its exit to be recorded.
  uint64_t grace_until_ns = 0;
  bool child_reaped = false;
  bool released = false;
  bool max_size_reached = false;
  std::exception_ptr failure;
  if (options.pid) session.live_.insert(static_cast<uint32_t>(*options.pid));

  try {
    if (child) {
      if (auto err = child->go()) {
        result.target_status = child->try_wait();
        throw common::Error(*err, "check the command name and PATH", 127);
      }
      // From its exec on the command is the user's program: nothing that
      // goes wrong in the recorder may take it down (docs: --on-end).
      child->detach();
      released = true;
    }
    for (;;) {
      // Events carry BPF_RB_NO_WAKEUP unless a backlog builds up, so the poll
      // mostly times out and the consume picks up the batch.
      int n = ring_buffer__poll(rb.get(), 100);
      session.rethrow_failure();
      if (n < 0 && n != -EINTR) throw common::Error("ring buffer poll failed: " + std::string(strerror(-n)));
      ring_buffer__consume(rb.get());
      session.rethrow_failure();
      uint64_t now = clock_ns(CLOCK_MONOTONIC);
      session.maybe_close_window(clock_ns(CLOCK_BOOTTIME), false);
      writer->flush_if_due(now);
      // Checked after each flush: the file ends at most one batch (a second
      // of events) and the trailer past the limit.
      if (options.max_size_bytes && writer->bytes_written() >= options.max_size_bytes) {
        result.stop_reason = "max-size";
        max_size_reached = true;
        break;
      }

      if (child && !child_reaped) {
        if (auto st = child->try_wait()) {
          child_reaped = true;
          result.target_status = *st;
        }
      }
      const bool command_running = child && !child_reaped;
      bool end = false;
      if (SignalForwarder::count() != signals_seen) {
        signals_seen = SignalForwarder::count();
        const char* name = SignalForwarder::last_signal() == SIGINT ? "SIGINT" : "SIGTERM";
        if (command_running && grace_until_ns == 0) {
          // Already passed on to the command: let it shut down, its exit is part of the trace.
          grace_until_ns = now + grace_ns;
          result.stop_reason = std::string(name) + " (forwarded to the target)";
        } else {
          if (result.stop_reason.empty() || grace_until_ns == 0) result.stop_reason = name;
          end = true;
        }
      }
      if (child && child_reaped && !session.tree_alive()) {
        if (result.stop_reason.empty()) result.stop_reason = "target exited";
        break;
      }
      if (options.pid && !session.tree_alive()) {
        result.stop_reason = "target exited";
        break;
      }
      if (grace_until_ns && now >= grace_until_ns) end = true;
      if (grace_until_ns == 0 && options.duration_ms && now - start_ns >= options.duration_ms * 1'000'000ull) {
        result.stop_reason = "duration";
        if (command_running && options.on_end == EndAction::term) {
          child->signal(SIGTERM);
          grace_until_ns = now + grace_ns;
          fprintf(stderr, "capaudit-record: --duration reached: SIGTERM sent to the command (pid %d), "
                  "recording up to %.3gs more (--grace) before SIGKILL\n", child->pid(), grace_ns / 1e9);
          end = grace_ns == 0;
        } else {
          end = true;
        }
      }
      if (end) break;
      if (show_status && now - last_status_ns >= 1'000'000'000ull) {
        last_status_ns = now;
        session.fill_losses(bpf->read_counters(), bpf->hook_misses());  // the losses as of this line
        auto& c = session.counts_;
        fprintf(stderr, "%s[capaudit] %5.1fs  checks %llu  events %llu  capabilities %d  losses %s%s",
                tty ? "\r" : "", (now - start_ns) / 1e9, static_cast<unsigned long long>(c.cap_checks),
                static_cast<unsigned long long>(total_events(c)),
                __builtin_popcountll(session.caps_seen_), describe_losses(session.losses_).c_str(),
                tty ? "   " : "\n");
      }
    }
  } catch (const common::Error& e) {
    result.stop_reason = std::string("error: ") + e.what();
    failure = std::current_exception();
  }

  // The recording ended with the command still running (--duration, a
  // second signal, --grace run out): --on-end says what becomes of it. A
  // recorder failure never touches it.
  if (child && released && !child_reaped && !child->try_wait() && !failure &&
      options.on_end != EndAction::detach) {
    child->signal(SIGKILL);
    result.stop_reason += "; the command was killed (--on-end)";
    // Its exit is still recorded: the programs are attached until it is gone.
    for (int i = 0; i < 200 && !child->try_wait(); ++i) usleep(10'000);
  }

  // The target may still run (detached, -p, --cgroup): its events after this
  // point are not recorded, and the trailer says why.
  if (!session.failure_) {
    ring_buffer__consume(rb.get());  // the denials still queued may still keep the window open
    session.maybe_close_window(clock_ns(CLOCK_BOOTTIME), true);
  }
  if (auto drained = bpf->stop_and_drain(); !drained) {
    const std::string& err = drained.error().message;
    common::log(common::LogLevel::warn, err + ": checks made since the traced tasks last left their CPU are missing");
    if (result.stop_reason.rfind("error", 0) != 0) result.stop_reason = "error: " + err;
  }
  if (!session.failure_) ring_buffer__consume(rb.get());
  if (!failure && session.failure_) {
    try {
      session.rethrow_failure();
    } catch (const common::Error& e) {
      result.stop_reason = std::string("error: ") + e.what();
      failure = std::current_exception();
    }
  }
  const BpfCounters counters = bpf->read_counters();
  session.fill_losses(counters, bpf->hook_misses());
  if (uint64_t rebuilt = counters[CAPAUDIT_CNT_SYNTHESIZED]; rebuilt && options.verbose)
    fprintf(stderr, "capaudit-record: %llu checks rebuilt at callers that inline cap_capable\n",
            static_cast<unsigned long long>(rebuilt));
  if (options.verbose && options.stacks_per_key)
    fprintf(stderr,
            "capaudit-record: call paths past the stack budget: %llu new (stack taken), %llu not taken (%u paths "
            "per key reached), %llu not compared (walk rate limit); %llu short walks\n",
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_NEW_PATHS]),
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATHS_FULL]), options.paths_per_key,
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATHS_UNCHECKED]),
            static_cast<unsigned long long>(counters[CAPAUDIT_CNT_PATH_WALKS]));
  if (const ResolveStats& u = session.user_frame_stats(); options.verbose && (u.by_kernel + u.by_maps + u.address_only))
    fprintf(stderr,
            "capaudit-record: user frames named by the kernel's build ID: %llu, by /proc/PID/maps: %llu, "
            "by address only: %llu; words at [sp] in an executable file mapping: %llu, elsewhere: %llu\n",
            static_cast<unsigned long long>(u.by_kernel), static_cast<unsigned long long>(u.by_maps),
            static_cast<unsigned long long>(u.address_only), static_cast<unsigned long long>(u.leaves_named),
            static_cast<unsigned long long>(u.leaves_unnamed));
  if (child && !child_reaped) {
    if (auto st = child->try_wait()) result.target_status = *st;
  }
  if (show_status && tty) fputs("\n", stderr);
  std::vector<std::string> notes;
  const bool detached = child && released && !result.target_status;
  if (detached) result.stop_reason += "; the command kept running (detached)";

  common::Trailer trailer;
  trailer.end_time_ns = clock_ns(CLOCK_BOOTTIME);
  trailer.target_exit_status = result.target_status;
  trailer.counts = session.counts_;
  trailer.losses = session.losses_;
  if (bpf->outcome_tracking() == common::OutcomeTracking::from_first_denial ||
      bpf->outcome_tracking() == common::OutcomeTracking::in_windows)
    trailer.outcomes_from_ns = bpf->outcomes_from_ns();  // in_windows: the first window's (what a 1.5 reader knows)
  trailer.outcome_windows = session.windows_;
  trailer.outcome_windows_ns = session.windows_ns_;
  trailer.max_size_reached = max_size_reached;
  if (!failure) {
    trailer.clean_shutdown = result.stop_reason.rfind("error", 0) != 0;
    trailer.stop_reason = result.stop_reason;
    try {
      writer->finish(trailer);
    } catch (const common::Error& e) {
      result.stop_reason = std::string("error: ") + e.what() + (detached ? "; the command kept running (detached)" : "");
      failure = std::current_exception();
    }
  }
  if (detached) {
    const std::string pid = std::to_string(child->pid());
    notes.push_back(failure ? "the command keeps running, untraced (pid " + pid + "): a failed recording never stops it"
                            : "the recording ended (" + result.stop_reason.substr(0, result.stop_reason.find(';')) +
                                  ") before the command: it runs on, untraced (pid " + pid +
                                  "); --on-end term or kill ends it instead");
  }
  if (failure) {
    // Whatever the file can still take: the batch that failed is dropped, a
    // regular file is cut back to its last complete frame, and a trailer
    // saying the recording failed is tried there.
    trailer.clean_shutdown = false;
    trailer.stop_reason = result.stop_reason;
    if (auto err = writer->finish_incomplete(trailer))
      notes.push_back("the trace has no trailer (" + *err + "): it reads as truncated after its last complete batch");
    else
      notes.push_back("the trace ends at its last complete batch, with a trailer marking it incomplete");
  }
  for (const auto& n : notes)
    if (!failure) fprintf(stderr, "capaudit-record: %s\n", n.c_str());
  result.counts = session.counts_;
  result.losses = session.losses_;
  result.bytes_written = writer->bytes_written();
  if (failure) {
    RecordFailure f;
    try {
      std::rethrow_exception(failure);
    } catch (const common::Error& e) {
      f.message = e.what();
      f.hint = e.hint;
      f.exit_code = e.exit_code == 0 ? 1 : e.exit_code;
    }
    f.notes = std::move(notes);
    result.failure = std::move(f);
  }
  return result;
}

}  // namespace capaudit::record
