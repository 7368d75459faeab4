#include "analyze/core/aggregate.h"

#include <algorithm>
#include <cstring>

#include "analyze/core/embedded_data.h"
#include "common/syscalls.h"

namespace capaudit::analyze {
namespace {

// Bounds per process image: a program with more distinct shapes than this is
// pathological; the excess is counted (shapes_dropped) and the report says so.
constexpr size_t kMaxShapes = 4096;
constexpr uint32_t kCapOptNoaudit = 1u << 1;  // include/linux/security.h CAP_OPT_NOAUDIT
// Denied-check times kept per shape until the outcome window is known; a
// denied hot loop before the first outcome is summarised beyond this.
constexpr size_t kMaxEarlyTimes = 64;

bool is_interrupted(int64_t ret) {
  // -EINTR and the kernel-internal restart codes a tracer can observe.
  return ret == -4 || ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

}  // namespace

RuntimeProgramsParse parse_runtime_programs(std::string_view text) {
  RuntimeProgramsParse out;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find_first_of(" \t");
    const std::string_view kind = line.substr(0, space);
    const std::string value(space == std::string_view::npos ? std::string_view{} : trim(line.substr(space)));
    if (value.empty()) {
      out.errors.push_back({line_no, "expected 'name|dir|contains VALUE'"});
      continue;
    }
    if (kind == "name") out.programs.names.push_back(value);
    else if (kind == "dir") out.programs.dirs.push_back(value);
    else if (kind == "contains") out.programs.contains.push_back(value);
    else out.errors.push_back({line_no, "unknown kind '" + std::string(kind) + "'"});
  }
  return out;
}

const RuntimePrograms& builtin_runtime_programs() {
  static const RuntimePrograms programs = parse_embedded("runtime_programs.conf", parse_runtime_programs).programs;
  return programs;
}

bool is_runtime_exe(const std::string& exe, const std::vector<std::string>& argv, const RuntimePrograms& programs) {
  for (const auto& c : programs.contains)
    if (exe.find(c) != std::string::npos) return true;
  for (const auto& d : programs.dirs)
    if (exe.rfind(d, 0) == 0) return true;
  auto named = [&](const std::string& path) {
    const auto slash = path.find_last_of('/');
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    return std::find(programs.names.begin(), programs.names.end(), base) != programs.names.end();
  };
  if (named(exe)) return true;
  // No usable path ("/" or a memfd): argv[0] is all there is.
  const bool pathless = exe.empty() || exe == "/" || exe.rfind("/memfd:", 0) == 0;
  return pathless && !argv.empty() && named(argv[0]);
}

bool is_runtime_exe(const std::string& exe, const std::vector<std::string>& argv) {
  return is_runtime_exe(exe, argv, builtin_runtime_programs());
}

ImageState image_state(const std::string& exe, const std::vector<std::string>& argv, const std::string& cgroup,
                       const common::CredIds& ids, const common::CapSets& caps,
                       const std::optional<common::FileCaps>& file_caps, bool runtime) {
  ImageState s;
  s.exe = exe;
  s.argv = argv;
  s.cgroup = cgroup;
  s.runtime = runtime || is_runtime_exe(exe, argv);
  s.runtime_init = s.runtime && argv.size() >= 2 && argv[1] == "init";
  s.ids_known = true;
  s.uid = ids.uid;
  s.euid = ids.euid;
  s.gid = ids.gid;
  s.cred_ids = ids;
  s.caps = caps;
  s.file_caps = file_caps;
  s.sets_known = true;
  s.cur_permitted = caps.permitted;
  s.cur_effective = caps.effective;
  s.cur_inheritable = caps.inheritable;
  return s;
}

void tally_outcome(DenialAssessment& a, int64_t ret) {
  if (ret >= 0) {
    ++a.succeeded_anyway;
  } else if (ret == -1 || ret == -13) {
    ++a.failed;
  } else if (is_interrupted(ret)) {
    ++a.interrupted;
  } else {
    ++a.other_error;
    if (a.errors_seen.size() < 16 && std::find(a.errors_seen.begin(), a.errors_seen.end(), ret) == a.errors_seen.end())
      a.errors_seen.push_back(ret);
  }
}

std::optional<bool> RunAggregate::is_descendant(uint32_t pid, uint32_t ancestor) const {
  if (!parent.count(pid)) return std::nullopt;
  for (int depth = 0; depth < 4096; ++depth) {
    auto it = parent.find(pid);
    if (it == parent.end()) return false;
    if (it->second == ancestor) return true;
    pid = it->second;
  }
  return false;
}

Aggregator::Aggregator(std::string path) { run_.path = std::move(path); }

void Aggregator::on_header(const common::Header& h) {
  run_.has_header = true;
  run_.header = h;
}

size_t Aggregator::new_image(uint32_t pid, uint64_t begin_ns) {
  run_.processes.push_back(ProcessAgg{});
  size_t idx = run_.processes.size() - 1;
  run_.processes[idx].pid = pid;
  run_.processes[idx].begin_ns = begin_ns;
  auto& list = images_by_pid_[pid];
  auto pos = std::upper_bound(list.begin(), list.end(), begin_ns,
                              [&](uint64_t t, size_t i) { return t < run_.processes[i].begin_ns; });
  list.insert(pos, idx);
  cache_image_ = SIZE_MAX;  // ranges changed
  return idx;
}

size_t Aggregator::image_for(uint32_t pid, uint64_t time_ns) {
  if (pid == cache_pid_ && cache_image_ != SIZE_MAX && time_ns >= cache_begin_ && time_ns < cache_end_)
    return cache_image_;
  auto it = images_by_pid_.find(pid);
  size_t idx;
  if (it == images_by_pid_.end() || it->second.empty() ||
      (time_ns < run_.processes[it->second.front()].begin_ns && run_.processes[it->second.front()].from_exec &&
       !run_.parent.count(pid))) {
    // A process the trace never introduced, or one whose first exec is
    // known but that made checks before it without a fork the trace saw
    // (it entered the traced cgroup): an image of its own, program unknown,
    // not the one it later exec'd.
    idx = new_image(pid, 0);
    run_.processes[idx].joined = true;
    it = images_by_pid_.find(pid);
  }
  const auto& list = it->second;
  auto pos = std::upper_bound(list.begin(), list.end(), time_ns,
                              [&](uint64_t t, size_t i) { return t < run_.processes[i].begin_ns; });
  // Before the first known image: the earliest image is the best guess.
  size_t k = pos == list.begin() ? 0 : static_cast<size_t>(pos - list.begin()) - 1;
  idx = list[k];
  cache_pid_ = pid;
  cache_image_ = idx;
  cache_begin_ = k == 0 ? 0 : run_.processes[idx].begin_ns;
  cache_end_ = k + 1 < list.size() ? run_.processes[list[k + 1]].begin_ns : UINT64_MAX;
  return idx;
}

void Aggregator::on_processes(std::span<const common::ProcessInfo> procs) {
  run_.events += procs.size();
  for (const auto& pi : procs) {
    size_t idx = new_image(pi.pid, 0);
    auto& p = run_.processes[idx];
    p.ppid = pi.ppid;
    p.start_time_ns = pi.start_time_ns;
    static_cast<ImageState&>(p) =
        image_state(pi.exe, pi.argv, pi.cgroup, {pi.uid, pi.euid, pi.gid, pi.egid}, pi.caps, pi.file_caps);
    if (pi.ppid) run_.parent.emplace(pi.pid, pi.ppid);
  }
}

void Aggregator::on_forks(std::span<const common::ForkEvent> events) {
  run_.events += events.size();
  settle_forks();
  for (const auto& e : events)
    if (!e.is_thread) pending_forks_.push_back(e);  // a thread belongs to its process image
}

void Aggregator::settle_forks() {
  for (const auto& e : pending_forks_) apply_fork(e);
  pending_forks_.clear();
}

void Aggregator::apply_fork(const common::ForkEvent& e) {
  {
    run_.parent[e.child_pid] = e.parent_pid;
    size_t parent_idx = SIZE_MAX;
    if (images_by_pid_.count(e.parent_pid)) parent_idx = image_for(e.parent_pid, e.time_ns);
    size_t idx = new_image(e.child_pid, e.time_ns);
    auto& c = run_.processes[idx];
    c.ppid = e.parent_pid;
    c.start_time_ns = e.child_start_time_ns;
    if (parent_idx != SIZE_MAX) {
      // fork() copies the image and the credentials: same program, same sets,
      // and a drop the parent already made applies to the child too.
      static_cast<ImageState&>(c) = run_.processes[parent_idx];
    }
  }
}

void Aggregator::on_execs(std::span<const common::ExecEvent> events) {
  run_.events += events.size();
  // Forks and execs of this batch in time order (each list is in time order
  // already; a fork and an exec at the same time: the fork came first).
  std::stable_sort(pending_forks_.begin(), pending_forks_.end(),
                   [](const common::ForkEvent& a, const common::ForkEvent& b) { return a.time_ns < b.time_ns; });
  size_t f = 0;
  for (const auto& e : events) {
    for (; f < pending_forks_.size() && pending_forks_[f].time_ns <= e.time_ns; ++f) apply_fork(pending_forks_[f]);
    apply_exec(e);
  }
  for (; f < pending_forks_.size(); ++f) apply_fork(pending_forks_[f]);
  pending_forks_.clear();
}

namespace {
// "/proc/self/exe", "/proc/thread-self/exe" or "/proc/PID/exe" of the process itself.
bool names_own_exe(const std::string& path, uint32_t pid) {
  return path == "/proc/self/exe" || path == "/proc/thread-self/exe" ||
         path == "/proc/" + std::to_string(pid) + "/exe";
}
}  // namespace

void Aggregator::apply_exec(const common::ExecEvent& e) {
  {
    uint32_t ppid = 0;
    if (auto it = run_.parent.find(e.pid); it != run_.parent.end()) ppid = it->second;
    // What a runtime's fork execs is the runtime's helper; what an exec'd
    // runtime image (runc init) execs in place is the container's program.
    bool forked_runtime = false;
    if (auto it = images_by_pid_.find(e.pid); it != images_by_pid_.end() && !it->second.empty()) {
      const ProcessAgg& before = run_.processes[it->second.back()];
      forked_runtime = before.runtime && !before.runtime_init && !before.from_exec && before.begin_ns > 0 &&
                       before.begin_ns <= e.time_ns;
    }
    // An exec of /proc/self/exe runs the image the process already had: an
    // older recorder wrote the name it was given (samples/real-helper).
    std::string exe = e.filename;
    if (names_own_exe(e.filename, e.pid))
      if (auto it = images_by_pid_.find(e.pid); it != images_by_pid_.end() && !it->second.empty())
        if (const auto& before = run_.processes[it->second.back()].exe; !before.empty()) exe = before;
    size_t idx = new_image(e.pid, e.time_ns);
    auto& p = run_.processes[idx];
    p.ppid = ppid;
    p.start_time_ns = e.start_time_ns;
    p.from_exec = true;
    static_cast<ImageState&>(p) = image_state(exe, e.argv, e.cgroup, {e.uid, e.euid, e.gid, e.egid}, e.caps,
                                              e.file_caps, forked_runtime);
    p.exec_ids = p.cred_ids;
  }
}

void Aggregator::on_exits(std::span<const common::ExitEvent> events) {
  settle_forks();
  run_.events += events.size();
}

void Aggregator::on_stacks(std::span<const common::KernelStack> stacks) {
  run_.events += stacks.size();
  for (const auto& s : stacks) run_.stacks[s.id] = s.frames;
}

void Aggregator::on_user_stacks(std::span<const common::UserStack> stacks) {
  run_.events += stacks.size();
  for (const auto& s : stacks) run_.user_stacks[s.id] = user_frames_of(s);
}

CheckAgg* Aggregator::add_check(ProcessAgg& p, const common::CapCheck& e, bool untracked) {
  bool noaudit = (e.opts & kCapOptNoaudit) != 0;
  auto same = [&](const CheckAgg& c) {
    return c.cap == e.cap && c.granted == e.granted && c.syscall_nr == e.syscall_nr && c.stack_id == e.stack_id &&
           c.user_stack_id == e.user_stack_id && c.userns == e.target_userns_inum && c.noaudit == noaudit &&
           c.cred == e.checked_cred && c.outcome_untracked == untracked;
  };
  CheckAgg* hit = nullptr;
  if (p.last_check < p.checks.size() && same(p.checks[p.last_check])) {
    hit = &p.checks[p.last_check];
  } else {
    for (size_t i = 0; i < p.checks.size(); ++i)
      if (same(p.checks[i])) {
        hit = &p.checks[i];
        p.last_check = i;
        break;
      }
  }
  if (!hit) {
    if (p.checks.size() >= kMaxShapes) {
      ++run_.shapes_dropped;
      return nullptr;
    }
    CheckAgg c;
    c.cap = static_cast<int16_t>(e.cap);
    c.granted = e.granted;
    c.syscall_nr = e.syscall_nr;
    c.stack_id = e.stack_id;
    c.user_stack_id = e.user_stack_id;
    c.userns = e.target_userns_inum;
    c.noaudit = noaudit;
    c.cred = e.checked_cred;
    c.outcome_untracked = untracked;
    if (e.checked_cred == common::CheckedCred::foreign && p.foreign_euids.size() < 8 &&
        std::find(p.foreign_euids.begin(), p.foreign_euids.end(), e.checked_euid) == p.foreign_euids.end())
      p.foreign_euids.push_back(e.checked_euid);
    c.first_ns = e.time_ns;
    c.last_ns = e.time_ns;
    p.checks.push_back(c);
    p.last_check = p.checks.size() - 1;
    hit = &p.checks.back();
  }
  ++hit->count;
  hit->first_ns = std::min(hit->first_ns, e.time_ns);
  hit->last_ns = std::max(hit->last_ns, e.time_ns);
  return hit;
}

// Whether a denial's outcome was tracked depends on a window start the
// trailer gives only at the end; a later outcome proves it had begun.
void Aggregator::note_early_denial(ProcessAgg& p, const CheckAgg& shape, uint64_t time_ns) {
  const uint64_t key = (static_cast<uint64_t>(&p - run_.processes.data()) << 32) |
                       static_cast<uint64_t>(&shape - p.checks.data());
  auto& early = early_denials_[key];
  if (early.times.size() < kMaxEarlyTimes) {
    early.times.push_back(time_ns);
  } else {
    early.overflow_first_ns = std::min(early.overflow_first_ns, time_ns);
    ++early.overflow;
  }
}

bool Aggregator::in_outcome_window(uint64_t time_ns) const {
  auto it = run_.outcome_windows.upper_bound(time_ns);
  if (it == run_.outcome_windows.begin()) return false;
  --it;
  return it->second.end_ns == 0 || time_ns < it->second.end_ns;
}

void Aggregator::on_outcome_windows(std::span<const common::OutcomeWindow> windows) {
  // A later record of the same window (its close) replaces the earlier.
  for (const auto& w : windows) run_.outcome_windows[w.start_ns] = w;
}

void Aggregator::on_cap_checks(std::span<const common::CapCheck> events) {
  settle_forks();
  if (run_.header.outcome_tracking == common::OutcomeTracking::in_windows) {
    // Decided at once: every window a check can lie in came before it.
    for (const auto& e : events)
      add_check(run_.processes[image_for(e.pid, e.time_ns)], e, !e.granted && !in_outcome_window(e.time_ns));
  } else if (run_.header.outcome_tracking != common::OutcomeTracking::from_first_denial) {
    for (const auto& e : events) add_check(run_.processes[image_for(e.pid, e.time_ns)], e);
  } else {
    // Kept apart so that the common case pays nothing for it.
    for (const auto& e : events) {
      ProcessAgg& p = run_.processes[image_for(e.pid, e.time_ns)];
      const CheckAgg* shape = add_check(p, e);
      if (shape && !e.granted && e.time_ns < first_outcome_ns_) note_early_denial(p, *shape, e.time_ns);
    }
  }
  run_.events += events.size();
}

void Aggregator::on_outcomes(std::span<const common::SyscallOutcome> events) {
  settle_forks();
  for (const auto& e : events) {
    auto& p = run_.processes[image_for(e.pid, e.time_ns)];
    auto it = std::find_if(p.outcomes.begin(), p.outcomes.end(),
                           [&](const OutcomeAgg& o) { return o.syscall_nr == e.syscall_nr; });
    if (it == p.outcomes.end()) {
      p.outcomes.push_back(OutcomeAgg{e.syscall_nr, {}, {}});
      it = p.outcomes.end() - 1;
    }
    tally_outcome(it->counts, e.ret);
    if (e.ret < 0 && it->errors.size() < kMaxOutcomeErrors &&
        std::find(it->errors.begin(), it->errors.end(), e.ret) == it->errors.end())
      it->errors.push_back(e.ret);
    first_outcome_ns_ = std::min(first_outcome_ns_, e.time_ns);
  }
  run_.events += events.size();
}

void Aggregator::apply_capset(ProcessAgg& p, const common::CapsetEvent& e) {
  // A drop: permitted or effective lose a bit, against the sets known from
  // exec, the snapshot or the previous change.
  const bool lowers = p.sets_known && ((p.cur_permitted & ~e.permitted) != 0 || (p.cur_effective & ~e.effective) != 0);
  if (e.source == common::CapsetSource::cred_change) {
    // Every credential change is reported, raises (seteuid(0) back) and
    // id-only changes included, so with nothing known before the event
    // proves no drop. Only a lowering change that keeps the ids is the
    // program choosing what to keep (capset/prctl); a setuid() that drops
    // everything, or keeps permitted under PR_SET_KEEPCAPS, chose nothing.
    ++run_.cred_changes;
    const bool ids_changed = p.cred_ids && e.ids && !(*p.cred_ids == *e.ids);
    if (lowers) {
      p.first_drop_ns = std::min(p.first_drop_ns, e.time_ns);
      if (!ids_changed) {
        p.capset_requested |= e.permitted | e.effective;
        p.kept_by_drop = true;
      }
    }
    if (e.ids) p.cred_ids = e.ids;
  } else {
    // capset() syscall exits (formats 1.0/1.1): every mask was asked for.
    // With nothing known before, the first capset is taken as the drop:
    // programs call capset to shed privileges far more often than to raise them.
    ++run_.capset_syscalls;
    p.capset_requested |= e.permitted | e.effective;
    if (lowers || !p.sets_known) p.first_drop_ns = std::min(p.first_drop_ns, e.time_ns);
  }
  // With nothing known before, any inheritable bit may have been a raise.
  const uint64_t allowed = p.sets_known ? (p.cur_inheritable | p.cur_permitted) : 0;
  if ((e.inheritable & ~allowed) != 0) p.inheritable_raised = true;
  p.sets_known = true;
  p.cur_permitted = e.permitted;
  p.cur_effective = e.effective;
  p.cur_inheritable = e.inheritable;
}

void Aggregator::on_capsets(std::span<const common::CapsetEvent> events) {
  settle_forks();
  for (const auto& e : events) apply_capset(run_.processes[image_for(e.pid, e.time_ns)], e);
  run_.events += events.size();
}

void Aggregator::on_operations(std::span<const common::OperationFact> events) {
  settle_forks();
  for (const auto& e : events) {
    auto& p = run_.processes[image_for(e.pid, e.time_ns)];
    auto it = std::find_if(p.ops.begin(), p.ops.end(), [&](const OpAgg& o) {
      return o.kind == e.kind && o.syscall_nr == e.syscall_nr && o.a[0] == e.a0 && o.a[1] == e.a1 &&
             o.a[2] == e.a2 && o.a[3] == e.a3 && o.uid == e.uid && o.gid == e.gid && o.cap == e.cap &&
             o.granted == e.granted && o.stack_id == e.stack_id && o.args == e.args && o.user_words == e.user_words &&
             o.state == e.state;
    });
    if (it == p.ops.end()) {
      if (p.ops.size() >= kMaxShapes) {
        ++run_.shapes_dropped;
        continue;
      }
      OpAgg o;
      o.kind = e.kind;
      o.syscall_nr = e.syscall_nr;
      o.a[0] = e.a0;
      o.a[1] = e.a1;
      o.a[2] = e.a2;
      o.a[3] = e.a3;
      o.uid = e.uid;
      o.gid = e.gid;
      o.cap = e.cap;
      o.granted = e.granted;
      o.stack_id = e.stack_id;
      o.args = e.args;
      o.user_words = e.user_words;
      o.state = e.state;
      o.first_ns = e.time_ns;
      p.ops.push_back(o);
      it = p.ops.end() - 1;
    }
    ++it->count;
    if (e.ret) it->ret = e.ret;
  }
  run_.events += events.size();
}

void Aggregator::on_trailer(const common::Trailer& t) {
  settle_forks();
  run_.trailer = t;
}

// The kernel makes an exec's checks (loading the ELF, computing the new
// credentials) before the exec event, so they were counted for the image that
// called execve. They belong to the program being loaded: move checks made
// inside execve/execveat to the image that exec began.
void Aggregator::move_exec_checks() {
  const std::string arch = run_.header.arch;
  std::optional<int> nrs[2] = {common::syscall_number("execve", arch), common::syscall_number("execveat", arch)};
  for (auto& [pid, list] : images_by_pid_) {
    for (size_t k = 0; k + 1 < list.size(); ++k) {
      ProcessAgg& from = run_.processes[list[k]];
      ProcessAgg& to = run_.processes[list[k + 1]];
      if (!to.from_exec) continue;
      auto is_exec = [&](const CheckAgg& c) { return (nrs[0] && c.syscall_nr == *nrs[0]) || (nrs[1] && c.syscall_nr == *nrs[1]); };
      for (auto it = from.checks.begin(); it != from.checks.end();) {
        if (!is_exec(*it) || it->last_ns > to.begin_ns) {
          ++it;
          continue;
        }
        const CheckAgg moved = *it;
        auto same = std::find_if(to.checks.begin(), to.checks.end(), [&](const CheckAgg& c) {
          return c.cap == moved.cap && c.granted == moved.granted && c.syscall_nr == moved.syscall_nr &&
                 c.stack_id == moved.stack_id && c.user_stack_id == moved.user_stack_id && c.userns == moved.userns && c.noaudit == moved.noaudit &&
                 c.outcome_untracked == moved.outcome_untracked && c.cred == moved.cred;
        });
        if (same == to.checks.end()) {
          to.checks.push_back(moved);
        } else {
          same->count += moved.count;
          same->first_ns = std::min(same->first_ns, moved.first_ns);
          same->last_ns = std::max(same->last_ns, moved.last_ns);
        }
        it = from.checks.erase(it);
      }
      from.last_check = to.last_check = SIZE_MAX;
    }
  }
}

// Settles which denied checks had their syscall outcome tracked, now that the
// trailer (if any) gives the window start.
void Aggregator::count_untracked_outcomes() {
  const auto mode = run_.header.outcome_tracking;
  if (mode == common::OutcomeTracking::from_start || mode == common::OutcomeTracking::in_windows) return;
  // from_first_denial: tracking began at outcomes_from_ns (0: never). A
  // trace cut short has no trailer; then only a recorded outcome proves that
  // tracking had begun, so everything before the first one is untracked.
  uint64_t from = run_.trailer ? run_.trailer->outcomes_from_ns : 0;
  if (first_outcome_ns_ != UINT64_MAX && (from == 0 || first_outcome_ns_ < from)) from = first_outcome_ns_;
  if (mode == common::OutcomeTracking::off || from == 0) {
    for (auto& p : run_.processes)
      for (auto& c : p.checks)
        if (!c.granted) c.outcome_untracked = true;
  } else {
    // Denied checks without an entry here came after a recorded outcome: tracked.
    for (const auto& [key, early] : early_denials_) {
      auto& checks = run_.processes[key >> 32].checks;
      const size_t shape = key & 0xffffffffu;
      auto untracked = static_cast<uint64_t>(
          std::count_if(early.times.begin(), early.times.end(), [&](uint64_t t) { return t < from; }));
      // The summarised rest is untracked when any of it may lie before the start.
      if (early.overflow && early.overflow_first_ns < from) untracked += early.overflow;
      if (untracked == 0) continue;
      if (untracked >= checks[shape].count) {
        checks[shape].outcome_untracked = true;
        continue;
      }
      // Straddles the start: the untracked part becomes a shape of its own
      // (the times of each part are the whole shape's: a bound, not exact).
      CheckAgg part = checks[shape];
      part.outcome_untracked = true;
      part.count = untracked;
      checks[shape].count -= untracked;
      checks.push_back(part);
    }
  }
  early_denials_.clear();
}

RunAggregate Aggregator::finish(const common::ReadResult& result) {
  settle_forks();
  count_untracked_outcomes();
  move_exec_checks();
  run_.read = result;
  return std::move(run_);
}

}  // namespace capaudit::analyze
