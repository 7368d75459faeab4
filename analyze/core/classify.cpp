#include "analyze/core/classify.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "analyze/core/names.h"
#include "common/container_ids.h"
#include "common/syscalls.h"
#include "analyze/core/completeness.h"

namespace capaudit::analyze {
namespace {

// A raw ICMP socket opened after the image's ICMP datagram socket of the same
// family was refused with EACCES (net.ipv4.ping_group_range, ping_init_sock())
// is ping's fallback: the ping_group rule, which speaks for the datagram
// socket, speaks for it too. A raw socket with no refused datagram socket
// before it is an operation of its own, and no rule clears it.
bool is_ping_fallback(const OpAgg& op, const std::vector<OpAgg>& ops) {
  constexpr int64_t kAfInet = 2, kAfInet6 = 10, kSockDgram = 2, kSockRaw = 3, kSockTypeMask = 0xf;
  constexpr int64_t kIcmp = 1, kIcmpV6 = 58, kEacces = -13;
  if (op.kind != common::OpKind::socket || (op.a[1] & kSockTypeMask) != kSockRaw) return false;
  const int64_t proto = op.a[0] == kAfInet ? kIcmp : op.a[0] == kAfInet6 ? kIcmpV6 : -1;
  if (proto < 0 || op.a[2] != proto) return false;
  for (const auto& d : ops)
    if (d.kind == common::OpKind::socket && d.a[0] == op.a[0] && (d.a[1] & kSockTypeMask) == kSockDgram &&
        d.a[2] == proto && d.ret && *d.ret == kEacces && d.first_ns <= op.first_ns)
      return true;
  return false;
}

constexpr int kCapNetRaw = 13;  // include/uapi/linux/capability.h

// Frames innermost first, offsets stripped. Frames inside cap_capable (the
// recorder's own probe: bpf_prog_*, bpf_trace_run*, __traceiter_*) are cut.
std::vector<std::string> strip_offsets(const std::vector<std::string>& frames) {
  std::vector<std::string> out;
  out.reserve(frames.size());
  for (const auto& f : frames) out.emplace_back(frame_function(f));
  auto cap = std::find(out.begin(), out.end(), "cap_capable");
  if (cap != out.end()) out.erase(out.begin(), cap);
  return out;
}

// Evidence for one capability in one scope (an executable, or "" = merged),
// under one profile.
struct Acc {
  uint64_t granted = 0, denied = 0;
  uint64_t plain_granted = 0, noise_granted = 0, noise_denied = 0;
  uint64_t explained_needed = 0, explained_not_needed = 0, denied_gating = 0;
  std::map<int32_t, uint64_t> denied_gating_syscalls;
  bool predicted = false;
  NoiseBasis noise_basis = NoiseBasis::none;
  NoiseCause noise_cause;  // with the strongest basis
  std::map<int32_t, SyscallUse> syscalls;
  std::map<std::string, CallPath> paths;  // key: frames joined
  std::map<std::string, UserCallPath> user_paths;  // key: syscall and frames (user_path_key)
  std::vector<RuleHit> hits;
  DenialAssessment denial;
  bool has_denial = false;
  // (image, syscall) whose outcomes are already in `denial`: two denied
  // shapes of one syscall (two call paths) share its outcomes, not add them twice.
  std::set<std::pair<const ProcessAgg*, int32_t>> outcomes_taken;
  // A granted raw-socket check in a run whose socket facts come from cgroup
  // hooks: a refused ping socket it may be the fallback of is invisible there.
  bool raw_socket_unexplainable = false;
  // Narrower alternatives (RuleSet::alternatives): granted checks of a broad
  // capability in a syscall where the narrow one was denied (its fallback),
  // and the narrow one's denied checks there, with the alternative.
  uint64_t fallback_granted = 0, narrow_served = 0;
  std::set<StoodIn> fallback_of, narrow_for;
  std::optional<uint64_t> first_rel, last_rel;
  std::set<std::string> runs;
  std::set<ExecutableName> exes;
  bool any_use = false, startup_all = true;
  bool capset_req = false, declared = false;
  bool kept_by_drop = false;  // capset_req from credential changes (kept at a drop)
  std::set<ExecutableName> capset_exes;
  std::set<DeclaredBy> declared_by;
};

// A user-space path's identity: its syscall and each frame's file and offset
// (the address where the file is unknown).
std::string user_path_key(int32_t syscall_nr, const UserStackView& v) {
  std::string k = std::to_string(syscall_nr);
  for (const auto& f : v.frames)
    k += "\n" + f.build_id + "\t" + f.path + "\t" + (f.has_offset ? std::to_string(f.file_offset) : "ip" + std::to_string(f.ip));
  return k + "\nsp" + std::to_string(v.entry_sp);
}

UserCallPath user_path_of(int32_t syscall_nr, const UserStackView& v, std::string_view arch) {
  UserCallPath p;
  p.syscall = syscall_name(syscall_nr, arch);
  for (const auto& f : v.frames) {
    UserFrameInfo u;
    u.ip = f.ip;
    u.object = f.path;
    u.build_id = f.build_id;
    if (f.has_offset) u.offset = f.file_offset;
    u.from_entry_sp = static_cast<int>(p.frames.size()) == v.entry_sp;
    p.frames.push_back(std::move(u));
  }
  return p;
}

void note_basis(Acc& a, NoiseBasis b, const NoiseCause& cause) {
  // Keep the strongest basis seen (credentials, call_path, opts, syscall).
  if (a.noise_basis == NoiseBasis::none || strength(b) < strength(a.noise_basis)) {
    a.noise_basis = b;
    a.noise_cause = cause;
  }
}

void add_hit(Acc& a, const RuleHit& h) {
  auto it = std::find_if(a.hits.begin(), a.hits.end(),
                         [&](const RuleHit& x) { return x.rule == h.rule && x.operation == h.operation; });
  if (it == a.hits.end()) {
    a.hits.push_back(h);
  } else {
    it->count += h.count;
    it->check_observed = it->check_observed || h.check_observed;
  }
}

// Whether one of FUNCTIONS is on the call path FRAMES (offsets stripped).
bool on_path(const std::vector<std::string>& frames, const std::vector<std::string>& functions) {
  for (const auto& f : frames)
    if (std::find(functions.begin(), functions.end(), f) != functions.end()) return true;
  return false;
}

// Whether process P's own checks decide check rule RULE in syscall NR: a
// check of its capability there whose call path holds one of its functions,
// or such a check without any call path of that (capability, syscall) to
// tell. Then an exit fact of the same syscall predicts nothing.
template <typename StackOf>
bool exit_check_speaks(const ProcessAgg& p, const Rule& rule, int32_t nr, StackOf&& stack_by_id) {
  bool checked = false;
  for (const auto& c : p.checks) checked = checked || (c.cap == rule.cap && c.syscall_nr == nr);
  if (!checked) return false;
  bool paths_known = false;
  for (const auto& o : p.ops) {
    if (o.kind != common::OpKind::cap_check || o.cap != rule.cap || o.syscall_nr != nr) continue;
    const auto* st = stack_by_id(o.stack_id);
    if (!st) continue;
    paths_known = true;
    if (on_path(st->frames, rule.frames)) return true;
  }
  return !paths_known;
}

struct StackInfo {
  std::vector<std::string> frames;  // offsets stripped
  std::string key;
};

// cap_capset() -> cap_inh_is_capped() checks CAP_SETPCAP on every capset(),
// but the answer matters only when the new inheritable set has a capability
// that was in neither the old inheritable nor the old permitted set. The
// following credential change (or capset() exit) shows whether it did.
// nr_capset: capset's number on the trace's architecture.
bool capset_setpcap_unused(const CheckAgg& c, const StackInfo* stack, const ProcessAgg& p,
                           std::optional<int32_t> nr_capset) {
  constexpr int kCapSetpcap = 8;
  if (c.cap != kCapSetpcap || !c.granted || p.inheritable_raised) return false;
  if (stack) {
    for (const auto& f : stack->frames)
      if (f == "cap_capset" || f == "cap_inh_is_capped" || f == "security_capset") return true;
    return false;
  }
  return nr_capset && c.syscall_nr == *nr_capset;
}

struct Scope {
  std::map<int, Acc> caps;
};

struct ExeInfo {
  std::set<std::string> runs;
  std::vector<OperationSeen> operations;
  std::set<std::tuple<std::string, uint32_t, uint64_t>> identities;  // (boot id, pid, start time)
  std::set<uint32_t> uids, euids;
  std::optional<common::FileCaps> file_caps;
  CapMask capset_requested = 0;
  std::optional<ExecPrivilegeGain> exec_gain;
  bool runtime = false;                 // is_runtime_image(): shown apart, never recommended
};

// What the exec of this image gained by itself (ExecPrivilegeGain), from
// the ids and sets the recorder read right after the exec.
std::optional<ExecPrivilegeGain> exec_gain_of(const ProcessAgg& p) {
  if (!p.from_exec || !p.exec_ids || !p.caps) return std::nullopt;
  const common::CredIds& id = *p.exec_ids;
  const CapMask from_file = id.euid != 0 ? p.caps->permitted & ~p.caps->ambient : 0;
  if (id.euid == id.uid && id.egid == id.gid && from_file == 0) return std::nullopt;
  return ExecPrivilegeGain{id.uid, id.euid, id.gid, id.egid, from_file};
}

struct NsKey {
  std::string run;
  uint64_t userns;
  bool operator<(const NsKey& o) const { return std::tie(run, userns) < std::tie(o.run, o.userns); }
};

struct Evidence {
  // Predictions an at_exit rule could not make: a value it reads is unknown
  // under the target (NoteKind::not_predicted), once per (rule, operation).
  std::vector<Note> not_predicted;
  Scope merged;  // over every executable but the runtime's
  std::map<ExecutableName, Scope> exes;
  std::map<ExecutableName, ExeInfo> info;
  std::map<NsKey, Scope> namespaces;
};

void add_operation(std::vector<OperationSeen>& ops, const OpAgg& op) {
  auto it = std::find_if(ops.begin(), ops.end(), [&](const OperationSeen& o) {
    return o.kind == op.kind && std::equal(std::begin(o.args), std::end(o.args), std::begin(op.a));
  });
  if (it == ops.end()) {
    if (ops.size() >= 256) return;  // a report, not a log
    OperationSeen o;
    o.kind = op.kind;
    std::copy(std::begin(op.a), std::end(op.a), o.args);
    ops.push_back(o);
    it = ops.end() - 1;
  }
  it->count += op.count;
  if (op.ret) it->last_ret = op.ret;
}

// The key of an image's executable: its path. An image the trace never
// names (no exec, no fork from a named image, no snapshot) is keyed by its
// pid, and by whether it is a process's work before an exec in a cgroup it
// joined: outputs say it is unknown (executable_name_text()), never use it as a path.
ExecutableName executable_of(const ProcessAgg& p) {
  if (!p.exe.empty()) return {p.exe, {}, false};
  return {"", {p.pid}, p.joined};
}

// Work that belongs to whoever starts the program, not to the program: a
// runtime by name, or a process that entered the traced cgroup on its own
// and made checks before its exec (runc init of a podman exec).
bool is_runtime_image(const ProcessAgg& p) { return (p.joined && p.exe.empty()) || p.runtime; }

std::string fmt_value(const std::optional<std::string>& v) { return v ? *v : "unset"; }

// A target profile was given: the report compares it with the recording.
bool reevaluates(const ClassifyOptions& opts) { return !opts.overlay.empty() || !opts.profile_name.empty(); }

Evidence gather(const std::vector<RunAggregate>& runs, const ClassifyOptions& opts, bool use_target,
                const RuleSet& rules, const Catalogue& cat) {
  Evidence ev;
  const bool reevaluating = use_target && reevaluates(opts);
  for (size_t ri = 0; ri < runs.size(); ++ri) {
    const auto& run = runs[ri];
    std::string run_id = "run" + std::to_string(ri + 1);
    Profile recorded = Profile::from_header(run.header);
    Profile target = recorded;
    if (use_target) target.overlay(opts.overlay);
    uint64_t init_ns = run.header.init_userns_inum;
    // cgroup sock_create hooks never see a socket the kernel refused before
    // them, such as an ICMP datagram socket outside ping_group_range.
    const std::optional<int> raw_fallback_nr = run.header.facts_source == common::FactsSource::cgroup_hooks
                                                   ? common::syscall_number("socket", run.header.arch)
                                                   : std::nullopt;
    // Syscall numbers are the trace's architecture's.
    const std::string& arch = run.header.arch;
    const auto nr_capset = common::known_syscall_nr(common::KnownSyscall::capset, arch);
    const auto nr_ptrace = common::known_syscall_nr(common::KnownSyscall::ptrace, arch);
    // Call paths are shared by many checks: strip and match each once per run.
    std::unordered_map<uint32_t, StackInfo> stack_cache;
    std::unordered_map<uint64_t, const NoiseEntry*> noise_cache;
    auto stack_by_id = [&](uint32_t id) -> const StackInfo* {
      if (id == 0) return nullptr;
      auto [it, fresh] = stack_cache.try_emplace(id);
      if (fresh) {
        if (auto st = run.stacks.find(id); st != run.stacks.end()) {
          it->second.frames = strip_offsets(st->second);
          for (const auto& f : it->second.frames) it->second.key += f + "\n";
        }
      }
      return it->second.frames.empty() ? nullptr : &it->second;
    };
    auto stack_of = [&](const CheckAgg& c) { return stack_by_id(c.stack_id); };
    auto path_noise = [&](const CheckAgg& c, const StackInfo& stack) {
      auto [it, fresh] = noise_cache.try_emplace((uint64_t{c.stack_id} << 8) | static_cast<uint8_t>(c.cap));
      if (fresh) it->second = cat.match(c.cap, stack.frames);
      return it->second;
    };
    // The recorder captures the call path of only the first few checks of a
    // (capability, syscall, verdict) in a task, and a forked child inherits
    // the task's spent budget; the rest are counted as unsampled. Those repeat
    // a sampled check, so they take its decision when every sampled path of
    // that key is catalogued noise.
    struct Sampled {
      const NoiseEntry* entry = nullptr;
      bool all_noise = true;
    };
    using SampledMap = std::map<std::tuple<int16_t, int32_t, bool>, Sampled>;
    auto note_sampled = [&](SampledMap& m, const CheckAgg& c) {
      const StackInfo* st = stack_of(c);
      if (!st) return;
      auto& sm = m[{c.cap, c.syscall_nr, c.granted}];
      const NoiseEntry* e = path_noise(c, *st);
      if (!e) sm.all_noise = false;
      else if (!sm.entry) sm.entry = e;
    };
    SampledMap run_sampled;
    for (const auto& p : run.processes)
      for (const auto& c : p.checks) note_sampled(run_sampled, c);

    for (const auto& p : run.processes) {
      if (p.checks.empty() && p.ops.empty() && p.capset_requested == 0 && !p.file_caps && p.exe.empty()) continue;
      if (!opts.container.empty() && (is_runtime_image(p) || common::container_id_of_cgroup(p.cgroup) != opts.container))
        continue;
      const ExecutableName exe = executable_of(p);
      auto& info = ev.info[exe];
      const bool runtime = is_runtime_image(p);
      info.runtime = info.runtime || runtime;
      info.runs.insert(run_id);
      info.identities.insert({run.header.boot_id, p.pid, p.start_time_ns});
      if (p.ids_known) {
        info.uids.insert(p.uid);
        info.euids.insert(p.euid);
      }
      if (p.file_caps) info.file_caps = p.file_caps;
      if (!info.exec_gain) info.exec_gain = exec_gain_of(p);
      info.capset_requested |= p.capset_requested;
      for (const auto& op : p.ops)
        if (op.kind != common::OpKind::cap_check) add_operation(info.operations, op);
      // The runtime's work stays in its own scope: never in the merged view.
      Scope runtime_sink;
      Scope* scopes[2] = {&ev.exes[exe], runtime ? &runtime_sink : &ev.merged};

      // Rule hits for the operations this image performed.
      struct SegHit {
        int cap;
        int32_t syscall_nr;
        std::optional<bool> needed_target;
        bool impossible;
        const std::vector<std::string>* frames;  // check rules: the kernel functions it is about
      };
      std::vector<SegHit> seg_hits;
      // Syscalls in which the image also did an operation no rule speaks for
      // (e.g. a raw socket beside a ping socket): a check there may belong to
      // that operation, so a rule's "not needed" cannot clear it.
      std::set<int32_t> unruled_syscalls;
      for (const auto& op : p.ops) {
        OpValues v;
        v.kind = op.kind;
        v.syscall_nr = op.syscall_nr;
        std::copy(std::begin(op.a), std::end(op.a), v.a);
        v.uid = op.uid;
        v.gid = op.gid;
        v.ret = op.ret;
        v.args = op.args;
        v.user_words = op.user_words;
        v.pid = p.pid;
        v.arch = arch;
        state_keys(op.state, v);
        if (op.kind == common::OpKind::ptrace_attach) v.descendant = run.is_descendant(static_cast<uint32_t>(op.a[0]), p.pid);
        if (op.kind == common::OpKind::cap_check && nr_ptrace && op.syscall_nr == *nr_ptrace && op.args.size() > 1)
          v.descendant = run.is_descendant(static_cast<uint32_t>(op.args[1]), p.pid);
        OpValues vt = v;  // under the target: its overlay wins over values recorded with the operation
        if (use_target) vt.overlay = &opts.overlay;
        const bool is_check = op.kind == common::OpKind::cap_check;
        // Taken at its syscall's exit (--facts sys_exit).
        const bool is_exit = common::taken_at_exit(op.kind);
        const StackInfo* op_stack = is_check ? stack_by_id(op.stack_id) : nullptr;
        bool ruled = false;
        for (const auto& rule : rules.rules) {
          // A check rule reads the operation facts its `at_exit` names too.
          const bool at_exit = is_exit && rule.at_exit == op.kind;
          if (!rule.evaluable || (rule.operation != op.kind && !at_exit)) continue;
          if (is_check && (rule.cap != op.cap || !op_stack || !on_path(op_stack->frames, rule.frames))) continue;
          const Expr* applies = at_exit && rule.applies_at_exit ? rule.applies_at_exit.get() : rule.applies.get();
          const Expr& needed = at_exit && rule.needed_at_exit ? *rule.needed_at_exit : *rule.needed;
          if (applies && evaluate(*applies, v, recorded, rules) != true) continue;
          ruled = true;
          // Where the kernel made this rule's check in that syscall, the check
          // and its own context speak; the exit fact only predicts. A check
          // of the capability on another path (perf_event_open's
          // perfmon_capable() for every task event, beside the paranoid gate
          // that stayed open) does not; one whose path is unknown might.
          if (at_exit && exit_check_speaks(p, rule, op.syscall_nr, stack_by_id)) continue;
          RuleHit h;
          h.rule = rule.id;
          h.operation = describe_operation(rule, v, &rules);
          h.needed_recorded = evaluate(needed, v, recorded, rules);
          h.needed_target = evaluate(needed, vt, target, rules);
          h.impossible_target = rule.impossible && evaluate(*rule.impossible, vt, target, rules) == true;
          h.count = op.count;
          h.kernel_fact = rule.kernel;
          h.remedy = rule.remedy;
          if (op_stack)
            for (const auto& f : op_stack->frames)
              if (std::find(rule.frames.begin(), rule.frames.end(), f) != rule.frames.end()) {
                h.frame = f;
                break;
              }
          for (auto key : rule.inputs) {
            if (auto b = key.find('{'); b != std::string::npos) {
              auto e = key.find('}', b);
              auto res = op_field(std::string_view(key).substr(b + 1, e - b - 1), v);
              const char* n = res ? rlimit_name(*res) : nullptr;
              key = key.substr(0, b) + (n ? n : "?") + key.substr(e + 1);
            }
            auto rv = key_text(key, v, recorded), tv = key_text(key, vt, target);
            h.inputs.push_back(key + ": recorded " + fmt_value(rv) + (use_target && rv != tv ? ", target " + fmt_value(tv) : ""));
          }
          bool any_check = false;
          for (const auto& c : p.checks)
            if (!at_exit && c.cap == rule.cap && c.syscall_nr == op.syscall_nr) {
              any_check = true;
              if (c.granted) h.check_observed = true;
            }
          // An exit fact whose answer under the target is unknown predicts
          // nothing; a re-evaluation says which value kept it from doing so
          // (a plain report predicts nothing anyway, and says nothing).
          if (reevaluating && at_exit && !h.needed_target && !h.impossible_target && !runtime) {
            const bool seen = std::any_of(ev.not_predicted.begin(), ev.not_predicted.end(), [&](const Note& n) {
              return n.ids.front() == rule.id && n.operation == h.operation;
            });
            if (!seen) {
              Note n(NoteKind::not_predicted, {rule.id});
              n.cap = rule.cap;
              n.operation = h.operation;
              n.why = rule.unknown;
              for (const auto& key : rule.inputs)
                if (key.find('{') == std::string::npos && !key_value(key, 0, vt, target)) {
                  n.keys.push_back(key);
                  if (!key_value(key, 0, v, recorded)) n.keys_unknown_when_recorded = true;
                }
              ev.not_predicted.push_back(std::move(n));
            }
          }
          seg_hits.push_back({rule.cap, op.syscall_nr, h.needed_target, h.impossible_target,
                              is_check || at_exit ? &rule.frames : nullptr});
          for (Scope* s : scopes) {
            Acc& a = s->caps[rule.cap];
            // A hit only becomes evidence for the capability when it says something:
            // it explains a check, or predicts one. Hits that say "not needed" for an
            // operation without checks are kept too, so reports show what was evaluated.
            add_hit(a, h);
            // A denied check never adds a capability, so an operation that was
            // checked at all is not a prediction.
            if (!any_check && h.needed_target == true && !h.impossible_target) {
              a.predicted = true;
              a.runs.insert(run_id);
              a.exes.insert(exe);
            }
          }
        }
        // A check no rule speaks for is just a check, not another operation.
        // Nor is an exit fact no rule applies to (a userfaultfd with UFFD_USER_MODE_ONLY).
        if (!ruled && !is_check && !is_exit && !is_ping_fallback(op, p.ops)) unruled_syscalls.insert(op.syscall_nr);
      }

      // Narrower alternatives: a narrow capability denied and its broad
      // fallback granted in the same syscall of this image.
      std::map<std::pair<int, int32_t>, const Alternative*> served_broad, served_narrow;
      for (const auto& alt : rules.alternatives)
        for (const auto& n : p.checks)
          if (n.cap == alt.narrow && !n.granted && n.syscall_nr >= 0)
            for (const auto& b : p.checks)
              if (b.cap == alt.broad && b.granted && b.syscall_nr == n.syscall_nr) {
                served_broad[{alt.broad, n.syscall_nr}] = &alt;
                served_narrow[{alt.narrow, n.syscall_nr}] = &alt;
              }

      // The image's own sampled paths of a key come first; without any, the
      // run's (below).
      SampledMap sampled;
      for (const auto& c : p.checks) note_sampled(sampled, c);

      for (const auto& c : p.checks) {
        bool host = c.userns == 0 || init_ns == 0 || c.userns == init_ns;
        // Noise decision: call path first (the check's own, else its sampled
        // siblings'), then opts, then capability+syscall.
        const NoiseEntry* entry = nullptr;
        NoiseBasis basis = NoiseBasis::none;
        NoiseCause cause;
        const StackInfo* stack = stack_of(c);
        const Sampled* sibling = nullptr;
        if (!stack) {
          const std::tuple<int16_t, int32_t, bool> key{c.cap, c.syscall_nr, c.granted};
          if (auto it = sampled.find(key); it != sampled.end()) sibling = &it->second;
          else if (auto rt = run_sampled.find(key); rt != run_sampled.end()) sibling = &rt->second;
        }
        if (c.cred == common::CheckedCred::foreign) {
          // Whose credentials is a fact of the check itself: it decides first.
          basis = NoiseBasis::credentials;
          cause.kind = NoiseCause::Kind::foreign_credentials;
          cause.euids = p.foreign_euids;
          if (stack) entry = path_noise(c, *stack);
        } else if (stack) {
          entry = path_noise(c, *stack);
          if (entry) {
            basis = NoiseBasis::call_path;
            cause = {NoiseCause::Kind::catalogue, entry->function, entry->meaning, {}};
          }
        } else if (sibling && sibling->all_noise && sibling->entry) {
          basis = NoiseBasis::call_path;
          cause = {NoiseCause::Kind::catalogue, sibling->entry->function, sibling->entry->meaning, {}};
        } else if (run.header.opts_available && c.noaudit) {
          basis = NoiseBasis::opts;
          cause.kind = NoiseCause::Kind::noaudit;
        } else if (const auto* fb = cat.match_fallback(c.cap, c.syscall_nr, arch)) {
          basis = NoiseBasis::syscall;
          cause = {NoiseCause::Kind::catalogue_fallback, "", fb->meaning, {}};
        }
        if (basis == NoiseBasis::none && capset_setpcap_unused(c, stack, p, nr_capset)) {
          basis = stack ? NoiseBasis::call_path : NoiseBasis::syscall;
          cause.kind = NoiseCause::Kind::capset_setpcap;
        }
        bool noise = basis != NoiseBasis::none;

        std::optional<bool> explained_needed;  // nullopt: not explained by a rule
        bool explained = false;
        for (const auto& h : seg_hits)
          if (h.cap == c.cap && h.syscall_nr == c.syscall_nr && c.syscall_nr >= 0) {
            // A check rule speaks for checks on its kernel functions' paths
            // (and for unsampled ones of the same syscall, which repeat them).
            if (h.frames && stack && !on_path(stack->frames, *h.frames)) continue;
            explained = true;
            bool need = h.needed_target != false && !h.impossible;
            explained_needed = explained_needed.value_or(false) || need;
          }
        if (explained && !*explained_needed && unruled_syscalls.count(c.syscall_nr)) explained = false;

        std::vector<Scope*> targets;
        if (host) {
          targets = {scopes[0], scopes[1]};
        } else {
          targets = {runtime ? &runtime_sink : &ev.namespaces[{run_id, c.userns}]};
          explained = false;  // rules speak about the host's sysctls
        }
        for (Scope* s : targets) {
          Acc& a = s->caps[c.cap];
          a.runs.insert(run_id);
          a.exes.insert(exe);
          auto& su = a.syscalls[c.syscall_nr];
          su.nr = c.syscall_nr;
          if (su.name.empty()) su.name = syscall_name(c.syscall_nr, arch);
          (c.granted ? su.granted : su.denied) += c.count;
          if (stack) {
            auto& cp = a.paths[stack->key];
            if (cp.frames.empty()) cp.frames = stack->frames;
            cp.checks += c.count;
            if (entry) cp.noise_entry = entry->function;
          }
          if (c.user_stack_id)
            if (auto us = run.user_stacks.find(c.user_stack_id); us != run.user_stacks.end() && !us->second.frames.empty()) {
              auto [up, fresh] = a.user_paths.try_emplace(user_path_key(c.syscall_nr, us->second));
              if (fresh) up->second = user_path_of(c.syscall_nr, us->second, arch);
              up->second.checks += c.count;
            }
          if (noise) note_basis(a, basis, cause);
          if (c.granted) {
            a.granted += c.count;
            // A rule that says "not needed" yields to a narrower alternative: the
            // broad check was the fallback for a denied narrow one (perf_event_open's
            // CAP_SYS_ADMIN is both perfmon_capable()'s fallback and, on Debian,
            // the paranoid=3 gate, in the same frame).
            const auto broad = served_broad.find({c.cap, c.syscall_nr});
            if (noise) {
              a.noise_granted += c.count;
            } else if (explained && (*explained_needed || broad == served_broad.end())) {
              (*explained_needed ? a.explained_needed : a.explained_not_needed) += c.count;
            } else if (auto it = broad; it != served_broad.end()) {
              a.fallback_granted += c.count;
              a.fallback_of.insert({it->second->narrow, it->second->broad, c.syscall_nr, it->second->why,
                                    syscall_name(c.syscall_nr, arch)});
            } else {
              a.plain_granted += c.count;
              if (c.cap == kCapNetRaw && raw_fallback_nr && c.syscall_nr == *raw_fallback_nr)
                a.raw_socket_unexplainable = true;
            }
            if (!noise && (!explained || *explained_needed)) {
              a.any_use = true;
              // No drop at all means the capability is kept for the whole run.
              if (p.first_drop_ns == UINT64_MAX || c.last_ns >= p.first_drop_ns) a.startup_all = false;
              if (p.start_time_ns && c.first_ns >= p.start_time_ns) {
                uint64_t f = c.first_ns - p.start_time_ns, l = c.last_ns - p.start_time_ns;
                a.first_rel = a.first_rel ? std::min(*a.first_rel, f) : f;
                a.last_rel = a.last_rel ? std::max(*a.last_rel, l) : l;
              }
            }
          } else {
            a.denied += c.count;
            if (!noise)
              if (auto it = served_narrow.find({c.cap, c.syscall_nr}); it != served_narrow.end()) {
                a.narrow_served += c.count;
                a.narrow_for.insert({it->second->narrow, it->second->broad, c.syscall_nr, it->second->why,
                                    syscall_name(c.syscall_nr, arch)});
              }
            if (noise) {
              a.noise_denied += c.count;
            } else {
              a.denied_gating += c.count;
              a.denied_gating_syscalls[c.syscall_nr] += c.count;
              a.has_denial = true;
              // Checks the recorder could not have seen an outcome for are not "no outcome".
              const uint64_t tracked = c.outcome_untracked ? 0 : c.count;
              if (c.outcome_untracked) a.denial.not_tracked += c.count;
              auto o = std::find_if(p.outcomes.begin(), p.outcomes.end(),
                                    [&](const OutcomeAgg& x) { return x.syscall_nr == c.syscall_nr; });
              if (tracked && (o == p.outcomes.end() || c.syscall_nr < 0)) {
                a.denial.no_outcome += tracked;
              } else if (tracked && a.outcomes_taken.insert({&p, c.syscall_nr}).second) {
                const auto& k = o->counts;
                a.denial.failed += k.failed;
                a.denial.succeeded_anyway += k.succeeded_anyway;
                a.denial.interrupted += k.interrupted;
                a.denial.other_error += k.other_error;
                for (auto e : k.errors_seen)
                  if (std::find(a.denial.errors_seen.begin(), a.denial.errors_seen.end(), e) == a.denial.errors_seen.end())
                    a.denial.errors_seen.push_back(e);
              }
            }
          }
        }
      }

      for (int cap = 0; cap < 64; ++cap) {
        bool req = has_cap(p.capset_requested, cap);
        bool decl = p.file_caps && has_cap(p.file_caps->permitted | p.file_caps->inheritable, cap);
        if (!req && !decl) continue;
        for (Scope* s : scopes) {
          Acc& a = s->caps[cap];
          if (req) {
            a.capset_req = true;
            a.kept_by_drop = a.kept_by_drop || p.kept_by_drop;
            a.capset_exes.insert(exe);
          }
          if (decl) {
            a.declared = true;
            a.declared_by.insert({"", exe});
          }
          a.exes.insert(exe);
        }
      }
    }
  }
  // Declarations name no executable: they only count in the merged view.
  for (const auto& d : opts.declared)
    for (int cap = 0; cap < 64; ++cap)
      if (has_cap(d.caps, cap)) {
        Acc& a = ev.merged.caps[cap];
        a.declared = true;
        a.declared_by.insert({d.source, {}});
      }
  return ev;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

CapFinding finding_for(int cap, const Acc& a, size_t runs_total) {
  CapFinding f;
  f.cap = cap;
  f.name = cap_name(cap);
  f.granted = a.granted;
  f.denied = a.denied;
  f.first_use_ns = a.first_rel;
  f.last_use_ns = a.last_rel;
  f.runs.assign(a.runs.begin(), a.runs.end());
  f.runs_seen = static_cast<uint32_t>(a.runs.size());
  f.runs_total = static_cast<uint32_t>(runs_total);
  f.executables.assign(a.exes.begin(), a.exes.end());
  for (const auto& [nr, su] : a.syscalls) f.syscalls.push_back(su);  // named by gather(), by the trace's arch
  for (const auto& [k, cp] : a.paths) f.call_paths.push_back(cp);
  std::sort(f.call_paths.begin(), f.call_paths.end(), [](const CallPath& x, const CallPath& y) { return x.checks > y.checks; });
  for (const auto& [k, up] : a.user_paths) f.user_paths.push_back(up);
  std::stable_sort(f.user_paths.begin(), f.user_paths.end(),
                   [](const UserCallPath& x, const UserCallPath& y) { return x.checks > y.checks; });
  if (f.user_paths.size() > kMaxUserPaths) {
    f.user_paths_omitted = f.user_paths.size() - kMaxUserPaths;
    f.user_paths.resize(kMaxUserPaths);
  }
  for (auto& up : f.user_paths) choose_call_site(up, f.executables);
  f.rules = a.hits;
  if (a.has_denial) f.denial = a.denial;
  if (a.declared) f.declared_by.assign(a.declared_by.begin(), a.declared_by.end());

  // Whether a rule hit keeps the capability (it is needed, or a value the rule reads is unknown).
  const bool hits_need = std::any_of(a.hits.begin(), a.hits.end(), [](const RuleHit& h) {
    return h.needed_target != false && !h.impossible_target;
  });
  using K = CategoryReason::Kind;
  CategoryReason& why = f.reason;
  if (a.plain_granted) {
    f.category = Category::required;
    why.kind = K::unexplained_grant;
    why.raw_socket_unexplainable = a.raw_socket_unexplainable;
  } else if (a.narrow_served && !a.explained_needed) {
    // The operation went through on the broad fallback: this narrow
    // capability is what it needs, although every check of it was denied.
    f.category = hits_need ? Category::conditional : Category::required;
    why.kind = K::narrower_instead;
    why.stood_in.assign(a.narrow_for.begin(), a.narrow_for.end());
  } else if (a.explained_needed) {
    f.category = Category::conditional;
    why.kind = K::rule_needed;
  } else if (a.predicted) {
    f.category = Category::conditional;
    f.predicted = true;
    why.kind = K::rule_predicted;
  } else if (a.fallback_granted && !a.predicted) {
    f.category = Category::not_needed;
    why.kind = K::fallback_only;
    why.stood_in.assign(a.fallback_of.begin(), a.fallback_of.end());
  } else if (a.explained_not_needed) {
    f.category = Category::not_needed;
    why.kind = K::rule_not_needed;
  } else if (a.denied_gating) {
    // A denied gating check says more than advisory granted ones beside it.
    f.category = Category::denied_only;
    why.kind = K::denied_only;
    for (const auto& [nr, n] : a.denied_gating_syscalls) {
      auto su = a.syscalls.find(nr);  // every checked syscall is there, named
      why.denied_syscalls.push_back({nr, su != a.syscalls.end() ? su->second.name : syscall_name(nr, {}), 0, n});
    }
    why.advisory_checks = a.noise_granted + a.noise_denied;
    if (why.advisory_checks) why.noise = a.noise_cause;
  } else if (a.noise_granted || a.noise_denied) {
    f.category = Category::advisory;
    f.noise_basis = a.noise_basis;
    why.kind = a.noise_granted ? K::noise : K::noise_denied;
    why.noise = a.noise_cause;
  } else if (a.capset_req) {
    f.category = Category::capset_only;
    why.kind = a.kept_by_drop ? K::capset_kept : K::capset_requested;
    why.requested_by.assign(a.capset_exes.begin(), a.capset_exes.end());
  } else {
    f.category = Category::declared_unobserved;
    why.kind = K::declared;
  }
  if (f.noise_basis == NoiseBasis::none && (a.noise_granted || a.noise_denied)) f.noise_basis = a.noise_basis;
  f.recommended = f.category == Category::required || f.category == Category::conditional;
  f.startup_only = f.recommended && a.any_use && a.startup_all;
  return f;
}

// Rule hits that neither explain a check nor predict one are context, not
// evidence: a bind to port 8080 says nothing about CAP_NET_BIND_SERVICE.
bool has_evidence(const Acc& a) { return a.granted || a.denied || a.predicted || a.capset_req || a.declared; }

std::vector<CapFinding> findings_for(const Scope& s, size_t runs_total) {
  std::vector<CapFinding> out;
  for (const auto& [cap, a] : s.caps)
    if (has_evidence(a)) out.push_back(finding_for(cap, a, runs_total));
  std::stable_sort(out.begin(), out.end(), [](const CapFinding& x, const CapFinding& y) {
    return std::tie(x.category, x.cap) < std::tie(y.category, y.cap);
  });
  return out;
}

CapMask mask_of(const std::vector<CapFinding>& caps, bool startup) {
  CapMask m = 0;
  for (const auto& c : caps)
    if (c.recommended && (!startup || c.startup_only)) m |= cap_bit(c.cap);
  return m;
}

RunInfo run_info(const RunAggregate& r, size_t index) {
  RunInfo ri;
  ri.id = "run" + std::to_string(index + 1);
  ri.path = r.path;
  ri.status = r.read.status;
  ri.message = r.read.message;
  const auto& h = r.header;
  ri.hostname = h.hostname;
  ri.kernel_release = h.kernel_release;
  ri.arch = h.arch;
  ri.boot_id = h.boot_id;
  ri.hook = h.hook;
  ri.target = h.target;
  ri.opts_available = h.opts_available;
  ri.has_stacks = !r.stacks.empty();
  ri.facts_source = h.facts_source;
  ri.link_facts = h.link_facts;
  ri.link_facts_reason = h.link_facts_reason;
  ri.outcome_tracking = h.outcome_tracking;
  if (h.outcome_tracking == common::OutcomeTracking::in_windows) {
    // A window whose close was never written (a trace cut short) ran to the
    // end of what was recorded: the trailer's end, else its own start.
    ri.outcome_windows = r.outcome_windows.size();
    ri.outcome_windows_ns = 0;
    for (const auto& [start, w] : r.outcome_windows) {
      const uint64_t end = w.end_ns ? w.end_ns : r.trailer ? std::max(r.trailer->end_time_ns, start) : start;
      *ri.outcome_windows_ns += end - start;
    }
    if (!r.outcome_windows.empty()) {
      const uint64_t first = r.outcome_windows.begin()->first;
      ri.outcomes_from_ns = first >= h.clock_boottime_ns ? first - h.clock_boottime_ns : first;
    }
  }
  if (h.outcome_tracking == common::OutcomeTracking::from_first_denial && r.trailer && r.trailer->outcomes_from_ns)
    ri.outcomes_from_ns = r.trailer->outcomes_from_ns >= h.clock_boottime_ns ? r.trailer->outcomes_from_ns - h.clock_boottime_ns
                                                                             : r.trailer->outcomes_from_ns;
  ri.cred_changes = r.cred_changes > 0;
  ri.cred_tracking = ri.cred_changes || h.cred_changes;
  ri.events = r.events;
  ri.processes = r.processes.size();
  auto& why = ri.incomplete_reasons;
  why = incomplete_reasons(r.read, r.has_header, r.trailer);
  if (r.trailer) {
    const auto& t = *r.trailer;
    if (t.end_time_ns > h.clock_boottime_ns && h.clock_boottime_ns) ri.duration_ns = t.end_time_ns - h.clock_boottime_ns;
    ri.exit_status = t.target_exit_status;
    ri.stop_reason = t.stop_reason;
  }
  if (r.shapes_dropped) why.push_back(std::to_string(r.shapes_dropped) + " distinct event shapes beyond the per-process bound");
  why.insert(why.end(), r.split_problems.begin(), r.split_problems.end());
  if (r.pieces > 1) ri.path += " (+" + std::to_string(r.pieces - 1) + " more pieces of split run " +
                               h.split_run_id.substr(0, 12) + ")";
  ri.incomplete = !why.empty();
  return ri;
}

std::vector<Change> compare(const Evidence& before, const Evidence& after, size_t n) {
  std::vector<Change> out;
  // One scope's changes; `prior` is the same scope under the recorded profile, if any.
  auto compare_scope = [&](const Scope* prior, const Scope& scope, const std::optional<ExecutableName>& exe) {
    std::set<int> caps;
    for (const auto& [c, a] : scope.caps) caps.insert(c);
    if (prior)
      for (const auto& [c, a] : prior->caps) caps.insert(c);
    for (int cap : caps) {
      std::optional<CapFinding> b, a;
      if (prior && prior->caps.count(cap) && has_evidence(prior->caps.at(cap)))
        b = finding_for(cap, prior->caps.at(cap), n);
      if (scope.caps.count(cap) && has_evidence(scope.caps.at(cap))) a = finding_for(cap, scope.caps.at(cap), n);
      bool rec_b = b && b->recommended, rec_a = a && a->recommended;
      if (!a && !b) continue;
      if (a && b && a->category == b->category && a->predicted == b->predicted) continue;
      if ((!a || !b) && rec_a == rec_b) continue;
      Change ch;
      ch.cap = cap;
      ch.name = cap_name(cap);
      ch.executable = exe;
      if (b) ch.before = b->category;
      if (a) ch.after = a->category;
      ch.kind = rec_a && !rec_b ? ChangeKind::appeared : !rec_a && rec_b ? ChangeKind::vanished : ChangeKind::changed_reason;
      for (const auto& h : a ? a->rules : b->rules)
        if (h.needed_recorded != h.needed_target || h.impossible_target) ch.rules.push_back(h);
      out.push_back(ch);
    }
  };
  // The merged view first, then each executable in ExecutableName order.
  compare_scope(&before.merged, after.merged, std::nullopt);
  for (const auto& [exe, scope] : after.exes) {
    auto bit = before.exes.find(exe);
    compare_scope(bit != before.exes.end() ? &bit->second : nullptr, scope, exe);
  }
  return out;
}

// Each container's findings: the runs classified again with only its
// processes (ClassifyOptions::container), named from the runs' headers.
std::vector<ContainerFindings> containers_of(const std::vector<RunAggregate>& runs, const ClassifyOptions& opts) {
  std::map<std::string, ContainerFindings> by_id;
  for (const auto& run : runs) {
    for (const auto& p : run.processes) {
      if (p.checks.empty() || is_runtime_image(p)) continue;
      const std::string id = common::container_id_of_cgroup(p.cgroup);
      if (!id.empty()) by_id[id].id = id;
    }
  }
  for (const auto& run : runs)
    for (const auto& c : run.header.containers)
      if (auto it = by_id.find(c.id); it != by_id.end() && it->second.name.empty() && !c.name.empty()) {
        it->second.name = c.name;
        it->second.engine = c.engine;
      }
  std::vector<ContainerFindings> out;
  for (auto& [id, cf] : by_id) {
    ClassifyOptions one = opts;
    one.container = id;
    Report sub = classify(runs, one);
    for (const auto& e : sub.executables)
      if (!e.caps.empty()) cf.executables.push_back({e.path, e.unknown_pids, e.runtime});
    std::set<std::string> ran;
    for (const auto& e : sub.executables) ran.insert(e.runs.begin(), e.runs.end());
    cf.runs.assign(ran.begin(), ran.end());
    cf.caps = std::move(sub.caps);
    cf.recommended = sub.recommended;
    cf.startup_only = sub.startup_only;
    out.push_back(std::move(cf));
  }
  return out;
}

}  // namespace

Report classify(const std::vector<RunAggregate>& runs, const ClassifyOptions& opts) {
  const RuleSet& rules = opts.rules ? *opts.rules : builtin_rules();
  const Catalogue& cat = opts.catalogue ? *opts.catalogue : builtin_catalogue();
  bool reevaluate = reevaluates(opts);
  Evidence ev = gather(runs, opts, true, rules, cat);
  size_t n = runs.size();

  Report rep;
  rep.tool_version = opts.tool_version;
  for (size_t i = 0; i < n; ++i) {
    rep.runs.push_back(run_info(runs[i], i));
    if (rep.runs.back().incomplete) rep.complete = false;
  }

  rep.profile.name = reevaluate ? (opts.profile_name.empty() ? "custom" : opts.profile_name) : "recorded";
  for (const auto& [key, value] : opts.overlay.values()) {
    ProfileSetting s;
    s.key = key;
    s.target = value;
    std::set<std::string> seen;
    for (const auto& r : runs)
      if (auto v = Profile::from_header(r.header).get(key)) seen.insert(*v);
    s.recorded = join({seen.begin(), seen.end()}, " | ");
    rep.profile.settings.push_back(s);
  }

  for (const auto& [exe, scope] : ev.exes) {
    ExecutableFindings ef;
    const auto& info = ev.info[exe];
    ef.runtime = info.runtime;
    ef.path = exe.path;
    ef.unknown_pids = exe.unknown_pids;
    ef.runs.assign(info.runs.begin(), info.runs.end());
    ef.processes = info.identities.size();
    ef.uids.assign(info.uids.begin(), info.uids.end());
    ef.euids.assign(info.euids.begin(), info.euids.end());
    ef.ran_as_root = info.euids.count(0) > 0;
    ef.ran_as_non_root = std::any_of(info.euids.begin(), info.euids.end(), [](uint32_t u) { return u != 0; });
    ef.exec_privilege_gain = info.exec_gain;
    if (info.file_caps) {
      ef.file_caps_permitted = info.file_caps->permitted;
      ef.file_caps_inheritable = info.file_caps->inheritable;
      ef.file_caps_effective = info.file_caps->effective;
    }
    ef.capset_requested = info.capset_requested;
    ef.operations = info.operations;
    ef.caps = findings_for(scope, n);
    if (ef.runtime)
      for (auto& c : ef.caps) {
        c.recommended = false;  // the runtime's own work, never the container's need
        c.startup_only = false;
      }
    ef.recommended = mask_of(ef.caps, false);
    ef.startup_only = mask_of(ef.caps, true);
    rep.executables.push_back(std::move(ef));
  }
  rep.caps = findings_for(ev.merged, n);
  rep.recommended = mask_of(rep.caps, false);
  rep.startup_only = mask_of(rep.caps, true);

  for (const auto& [key, scope] : ev.namespaces) {
    NamespaceFinding nf;
    nf.run = key.run;
    nf.userns_inum = key.userns;
    nf.caps = findings_for(scope, n);
    for (auto& c : nf.caps) {
      c.recommended = false;  // grants nothing on the host
      c.startup_only = false;
    }
    rep.namespaces.push_back(std::move(nf));
  }

  if (reevaluate) rep.changes = compare(gather(runs, opts, false, rules, cat), ev, n);
  if (opts.container.empty()) rep.containers = containers_of(runs, opts);

  // Only notes that apply to what this report shows.
  const auto shows = [&](auto pred) { return std::any_of(rep.caps.begin(), rep.caps.end(), pred); };
  const auto shows_cap = [&](int cap) { return shows([cap](const CapFinding& f) { return f.cap == cap; }); };
  const bool any_denied = shows([](const CapFinding& f) { return f.denied > 0; });
  const bool net_facts_matter = shows_cap(kCapNetRaw) || shows_cap(10 /* CAP_NET_BIND_SERVICE */);
  if (n > 1) rep.notes.emplace_back(NoteKind::runs_counted);
  if (!rep.caps.empty() && std::any_of(rep.runs.begin(), rep.runs.end(), [](const RunInfo& r) { return !r.has_stacks; }))
    rep.notes.emplace_back(NoteKind::no_call_paths);
  std::vector<std::string> pending;
  for (const auto& r : rules.rules)
    if (!r.evaluable && shows_cap(r.cap)) pending.push_back(r.id);
  if (!pending.empty()) rep.notes.emplace_back(NoteKind::rules_not_evaluable, pending);
  // Per-run limits of what the trace can show, named by run.
  auto runs_where = [&](auto pred) {
    std::vector<std::string> ids;
    for (const auto& ri : rep.runs)
      if (pred(ri)) ids.push_back(ri.id);
    return ids;
  };
  auto tracking = [&](common::OutcomeTracking t) {
    return runs_where([t](const RunInfo& ri) { return ri.outcome_tracking == t; });
  };
  auto facts = [&](common::FactsSource f) { return runs_where([f](const RunInfo& ri) { return ri.facts_source == f; }); };
  const auto without_creds = runs_where([](const RunInfo& ri) { return !ri.cred_tracking; });
  if (rep.recommended == 0) {
    // Startup-only is about recommended capabilities: nothing to judge.
  } else if (!without_creds.empty() && without_creds.size() == n)
    rep.notes.emplace_back(NoteKind::startup_from_capset);
  else if (!without_creds.empty())
    rep.notes.emplace_back(NoteKind::startup_from_capset_in, without_creds);
  using OT = common::OutcomeTracking;
  if (auto ids = tracking(OT::from_first_denial); any_denied && !ids.empty())
    rep.notes.emplace_back(NoteKind::outcomes_from_first_denial, ids);
  if (auto ids = tracking(OT::in_windows); any_denied && !ids.empty())
    rep.notes.emplace_back(NoteKind::outcomes_in_windows, ids);
  if (auto ids = tracking(OT::off); any_denied && !ids.empty()) rep.notes.emplace_back(NoteKind::outcomes_off, ids);
  if (auto ids = facts(common::FactsSource::cgroup_hooks); shows_cap(kCapNetRaw) && !ids.empty())
    rep.notes.emplace_back(NoteKind::facts_from_cgroup_hooks, ids);
  if (auto ids = facts(common::FactsSource::none); net_facts_matter && !ids.empty())
    rep.notes.emplace_back(NoteKind::no_net_facts, ids);
  // Re-evaluated toward another profile from a recording meant to predict
  // (operations at syscall exit) but without link facts: the link rules
  // could not predict there, and the report says so rather than nothing.
  // Traces from before link facts (no reason in the header) say nothing.
  if (reevaluate) {
    Note note(NoteKind::no_link_facts);
    for (const auto& ri : rep.runs) {
      if (ri.facts_source != common::FactsSource::sys_exit || ri.link_facts || ri.link_facts_reason.empty()) continue;
      note.ids.push_back(ri.id);
      // The reason's first words; its probe details are in `info`.
      const std::string why = ri.link_facts_reason.substr(0, ri.link_facts_reason.find(" ("));
      note.text += (note.text.empty() ? "" : "; ") + ri.id + ": " + why;
    }
    if (!note.ids.empty()) rep.notes.push_back(std::move(note));
  }
  if (!rep.namespaces.empty()) rep.notes.emplace_back(NoteKind::other_namespaces);
  rep.notes.insert(rep.notes.end(), ev.not_predicted.begin(), ev.not_predicted.end());
  return rep;
}

}  // namespace capaudit::analyze
