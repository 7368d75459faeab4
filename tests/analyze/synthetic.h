// Builds traces in memory for analyzer tests and feeds them straight into the
// Aggregator (the same visitor interface read_trace drives), in time-ordered
// batches delivered in the reader's documented order (trace_io.h). The
// round-trip test checks that the real writer and reader give the same result.
#pragma once

#include <string>
#include <vector>

#include "analyze/core/aggregate.h"

namespace capaudit::analyze::test {

// x86_64 syscall numbers used by the tests.
inline constexpr int32_t kMmap = 9, kBrk = 12, kSocket = 41, kBind = 49, kExecve = 59, kLink = 86, kChown = 92,
                         kCapset = 126, kMount = 165;
inline constexpr int kCapChown = 0, kCapFowner = 3, kCapSetuid = 7, kCapNetBindService = 10, kCapNetRaw = 13,
                     kCapSysAdmin = 21;
inline constexpr uint64_t kInitUserns = 4026531837;
inline constexpr uint64_t kAllCaps = (uint64_t{1} << 41) - 1;

struct Synth {
  std::string path = "synthetic.cap";
  common::Header header;
  std::vector<common::ProcessInfo> procs;
  std::vector<common::CapCheck> checks;
  std::vector<common::ForkEvent> forks;
  std::vector<common::ExecEvent> execs;
  std::vector<common::SyscallOutcome> outcomes;
  std::vector<common::CapsetEvent> capsets;
  std::vector<common::OperationFact> ops;
  std::vector<common::KernelStack> stacks;
  std::vector<common::UserStack> user_stacks;  // format 1.6
  std::vector<common::OutcomeWindow> windows;  // delivered first, as written (format 1.6)
  std::optional<common::Trailer> trailer = common::Trailer{};
  common::ReadStatus status = common::ReadStatus::complete;
  size_t batch = 3;  // events per kind per batch: small, to exercise batch boundaries

  Synth() {
    header.hostname = "testhost";
    header.kernel_release = "6.18.0";
    header.boot_id = "11111111-2222-3333-4444-555555555555";
    header.hook = common::Hook::tp_btf;
    header.init_userns_inum = kInitUserns;
    header.clock_boottime_ns = 1'000'000'000;
    sysctl("net.ipv4.ip_unprivileged_port_start", "1024");
    sysctl("net.ipv4.ping_group_range", "1 0");
    trailer->clean_shutdown = true;
    trailer->stop_reason = "target exited";
  }
  void sysctl(const std::string& k, const std::string& v) {
    for (auto& kv : header.sysctls_netns)
      if (kv.key == k) {
        kv.value = v;
        return;
      }
    header.sysctls_netns.push_back({k, v});
  }
  void exec(uint32_t pid, uint64_t t, const std::string& file, uint32_t euid = 0, uint64_t caps = kAllCaps) {
    common::ExecEvent e;
    e.time_ns = t;
    e.pid = e.tid = pid;
    e.start_time_ns = t - 1000;
    e.filename = file;
    e.argv = {file};
    e.uid = e.euid = euid;
    e.caps.permitted = e.caps.effective = e.caps.bounding = caps;
    execs.push_back(e);
  }
  void fork(uint32_t parent, uint32_t child, uint64_t t) {
    common::ForkEvent f;
    f.time_ns = t;
    f.parent_pid = f.parent_tid = parent;
    f.child_pid = f.child_tid = child;
    f.child_start_time_ns = t;
    forks.push_back(f);
  }
  void check(uint32_t pid, uint64_t t, int cap, bool granted, int32_t nr, uint32_t stack = 0,
             uint64_t userns = kInitUserns) {
    common::CapCheck c;
    c.time_ns = t;
    c.pid = c.tid = pid;
    c.cap = cap;
    c.granted = granted;
    c.syscall_nr = nr;
    c.stack_id = stack;
    c.target_userns_inum = userns;
    checks.push_back(c);
  }
  void outcome(uint32_t pid, uint64_t t, int32_t nr, int64_t ret) { outcomes.push_back({t, pid, pid, nr, ret}); }
  void capset(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm) {
    common::CapsetEvent e;
    e.time_ns = t;
    e.pid = e.tid = pid;
    e.effective = eff;
    e.permitted = perm;
    capsets.push_back(e);
  }
  // A format 1.2 credential change: the new sets and ids, noticed at the
  // thread's next check, fork or exit.
  void cred_change(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm, uint32_t uid, uint32_t euid) {
    capset(pid, t, eff, perm);
    auto& e = capsets.back();
    e.source = common::CapsetSource::cred_change;
    e.ids = common::CredIds{uid, euid, uid, euid};
  }
  void op(uint32_t pid, uint64_t t, common::OpKind kind, int32_t nr, int64_t a0, int64_t a1 = 0, int64_t a2 = 0,
          int64_t a3 = 0, uint32_t gid = 0, std::optional<int64_t> ret = 0) {
    common::OperationFact f;
    f.time_ns = t;
    f.pid = f.tid = pid;
    f.kind = kind;
    f.syscall_nr = nr;
    f.a0 = a0;
    f.a1 = a1;
    f.a2 = a2;
    f.a3 = a3;
    f.gid = gid;
    f.ret = ret;
    ops.push_back(f);
  }
  void stack(uint32_t id, std::vector<std::string> frames) { stacks.push_back({id, std::move(frames)}); }

  // Delivers events the way a trace file holds them: time-ordered batches of
  // `batch` events, each batch as one span per kind.
  RunAggregate aggregate() const {
    Aggregator agg(path);
    agg.on_header(header);
    if (!procs.empty()) agg.on_processes(procs);
    agg.on_stacks(stacks);
    if (!user_stacks.empty()) agg.on_user_stacks(user_stacks);
    if (!windows.empty()) agg.on_outcome_windows(windows);
    struct Ref {
      uint64_t t;
      int kind;
      size_t i;
    };
    std::vector<Ref> all;
    for (size_t i = 0; i < checks.size(); ++i) all.push_back({checks[i].time_ns, 0, i});
    for (size_t i = 0; i < forks.size(); ++i) all.push_back({forks[i].time_ns, 1, i});
    for (size_t i = 0; i < execs.size(); ++i) all.push_back({execs[i].time_ns, 2, i});
    for (size_t i = 0; i < outcomes.size(); ++i) all.push_back({outcomes[i].time_ns, 3, i});
    for (size_t i = 0; i < capsets.size(); ++i) all.push_back({capsets[i].time_ns, 4, i});
    for (size_t i = 0; i < ops.size(); ++i) all.push_back({ops[i].time_ns, 5, i});
    std::stable_sort(all.begin(), all.end(), [](const Ref& a, const Ref& b) { return a.t < b.t; });
    for (size_t b = 0; b < all.size(); b += batch) {
      std::vector<common::CapCheck> c;
      std::vector<common::ForkEvent> f;
      std::vector<common::ExecEvent> e;
      std::vector<common::SyscallOutcome> o;
      std::vector<common::CapsetEvent> s;
      std::vector<common::OperationFact> op;
      for (size_t k = b; k < std::min(all.size(), b + batch); ++k) {
        const auto& r = all[k];
        switch (r.kind) {
          case 0: c.push_back(checks[r.i]); break;
          case 1: f.push_back(forks[r.i]); break;
          case 2: e.push_back(execs[r.i]); break;
          case 3: o.push_back(outcomes[r.i]); break;
          case 4: s.push_back(capsets[r.i]); break;
          default: op.push_back(ops[r.i]); break;
        }
      }
      agg.on_forks(f);
      agg.on_execs(e);
      agg.on_capsets(s);
      agg.on_cap_checks(c);
      agg.on_outcomes(o);
      agg.on_operations(op);
    }
    if (trailer) agg.on_trailer(*trailer);
    common::ReadResult rr;
    rr.status = status;
    rr.has_header = true;
    rr.has_trailer = trailer.has_value();
    if (status == common::ReadStatus::truncated) rr.message = "truncated after 1 batch at byte 4242";
    return agg.finish(rr);
  }
};

}  // namespace capaudit::analyze::test
