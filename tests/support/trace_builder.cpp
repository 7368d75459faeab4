#include "tests/support/trace_builder.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "common/error.h"

namespace capaudit::test {

TraceBuilder::TraceBuilder(const common::Header& h, const common::OutputOptions& opts) : header(h), opts_(opts) {
  common::Trailer t;
  t.clean_shutdown = true;
  t.stop_reason = "target exited";
  trailer = t;
}

TraceBuilder::~TraceBuilder() {
  writer_.reset();
  if (fd_ >= 0) ::close(fd_);
}

TraceBuilder::TraceBuilder(const TraceBuilder& o) { *this = o; }

TraceBuilder& TraceBuilder::operator=(const TraceBuilder& o) {
  if (this == &o) return *this;
  if (o.writer_ || o.fd_ >= 0 || writer_ || fd_ >= 0) throw std::logic_error("a streamed TraceBuilder cannot be copied");
  static_cast<TraceEvents&>(*this) = o;
  header = o.header;
  trailer = o.trailer;
  batch = o.batch;
  opts_ = o.opts_;
  return *this;
}

void TraceBuilder::sysctl(const std::string& k, const std::string& v) {
  for (auto& kv : header.sysctls_netns)
    if (kv.key == k) {
      kv.value = v;
      return;
    }
  header.sysctls_netns.push_back({k, v});
}

void TraceBuilder::exec(uint32_t pid, uint64_t t, const std::string& file, uint32_t euid, uint64_t caps) {
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

void TraceBuilder::fork(uint32_t parent, uint32_t child, uint64_t t) {
  common::ForkEvent f;
  f.time_ns = t;
  f.parent_pid = f.parent_tid = parent;
  f.child_pid = f.child_tid = child;
  f.child_start_time_ns = t;
  forks.push_back(f);
}

void TraceBuilder::check(uint32_t pid, uint64_t t, int cap, bool granted, int32_t nr, uint32_t stack, uint64_t userns) {
  common::CapCheck c = capaudit::test::check(t, pid, cap, granted, nr);
  c.stack_id = stack;
  c.target_userns_inum = userns;
  checks.push_back(c);
}

void TraceBuilder::outcome(uint32_t pid, uint64_t t, int32_t nr, int64_t ret) { outcomes.push_back({t, pid, pid, nr, ret}); }

void TraceBuilder::capset(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm) {
  common::CapsetEvent e;
  e.time_ns = t;
  e.pid = e.tid = pid;
  e.effective = eff;
  e.permitted = perm;
  capsets.push_back(e);
}

void TraceBuilder::cred_change(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm, uint32_t uid, uint32_t euid) {
  capset(pid, t, eff, perm);
  auto& e = capsets.back();
  e.source = common::CapsetSource::cred_change;
  e.ids = common::CredIds{uid, euid, uid, euid};
}

void TraceBuilder::op(uint32_t pid, uint64_t t, common::OpKind kind, int32_t nr, int64_t a0, int64_t a1, int64_t a2,
                      int64_t a3, uint32_t gid, std::optional<int64_t> ret) {
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
  operations.push_back(f);
}

void TraceBuilder::stack(uint32_t id, std::vector<std::string> frames) { stacks.push_back({id, std::move(frames)}); }

std::vector<uint8_t> TraceBuilder::bytes() const {
  TraceBuilder out(header, opts_);
  if (!processes.empty()) out.snapshot(processes);
  for (const auto& s : stacks) out.add(s);
  for (const auto& s : user_stacks) out.add(s);
  for (const auto& w : windows) out.add(w);
  // Every event in time order (stable: events at one time keep the order given).
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
  for (size_t i = 0; i < operations.size(); ++i) all.push_back({operations[i].time_ns, 5, i});
  for (size_t i = 0; i < exits.size(); ++i) all.push_back({exits[i].time_ns, 6, i});
  std::stable_sort(all.begin(), all.end(), [](const Ref& a, const Ref& b) { return a.t < b.t; });
  size_t n = 0;
  for (const auto& r : all) {
    switch (r.kind) {
      case 0: out.add(checks[r.i]); break;
      case 1: out.add(forks[r.i]); break;
      case 2: out.add(execs[r.i]); break;
      case 3: out.add(outcomes[r.i]); break;
      case 4: out.add(capsets[r.i]); break;
      case 5: out.add(operations[r.i]); break;
      default: out.add(exits[r.i]); break;
    }
    if (batch && ++n % batch == 0) out.flush();
  }
  return trailer ? out.finish(*trailer) : out.unfinished();
}

common::TraceWriter& TraceBuilder::stream() {
  if (!writer_) {
    fd_ = ::memfd_create("capaudit-test-trace", MFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
    writer_ = common::TraceWriter::from_fd(fd_, false, opts_);
    writer_->write_header(header);
  }
  return *writer_;
}

TraceBuilder& TraceBuilder::snapshot(const std::vector<common::ProcessInfo>& p) {
  stream().write_processes(p);
  return *this;
}

TraceBuilder& TraceBuilder::flush() {
  stream().flush();
  return *this;
}

std::vector<uint8_t> TraceBuilder::finish(const common::Trailer& t) {
  stream().finish(t);
  writer_.reset();
  return contents();
}

std::vector<uint8_t> TraceBuilder::unfinished() {
  stream().flush();
  writer_.reset();
  return contents();
}

std::vector<uint8_t> TraceBuilder::contents() {
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  std::vector<uint8_t> out(static_cast<size_t>(size));
  if (::pread(fd_, out.data(), out.size(), 0) != size) throw std::runtime_error("reading memfd failed");
  return out;
}

common::Header example_header() {
  common::Header h;
  h.recorder_version = "0.1.0-test";
  h.recorder_argv = {"capaudit-record", "-o", "t.cap", "--", "ping", "-c1", "localhost"};
  h.target_mode = common::TargetMode::command;
  h.target = "ping -c1 localhost";
  h.hostname = "testhost";
  h.kernel_release = "6.18.0-test";
  h.kernel_version = "#1 SMP PREEMPT_DYNAMIC";
  h.arch = "x86_64";
  h.boot_id = "5f1c7a52-0d7e-4c5e-9a51-2b4f0d6e9c11";
  h.lockdown = "none";
  h.lsms = {"capability", "yama", "apparmor"};
  h.init_userns_inum = 4026531837;
  h.clock_boottime_ns = 1'000'000'000;
  h.clock_realtime_ns = 1'764'000'000'000'000'000;
  h.sysctls_global = {{"kernel.yama.ptrace_scope", "1"}, {"kernel.unprivileged_bpf_disabled", "2"}};
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", "1024"}, {"net.ipv4.ping_group_range", "1\t0"}};
  h.target_netns_inum = 4026531840;
  h.target_rlimits = {{8, "RLIMIT_MEMLOCK", 8 << 20, 8 << 20}, {7, "RLIMIT_NOFILE", 1024, UINT64_MAX}};
  h.hook = common::Hook::tp_btf;
  h.hook_attempts = {{common::Hook::tp_btf, true, "tp_btf/cap_capable loaded"},
                     {common::Hook::fexit, false, "not tried: tracepoint available"}};
  h.opts_available = false;
  h.facts_source = common::FactsSource::cgroup_hooks;
  h.facts_reason = "cgroup programs bind4, bind6, sock_create on /sys/fs/cgroup";
  h.cred_changes = true;
  h.outcome_tracking = common::OutcomeTracking::from_first_denial;
  h.stacks_per_key = 4;
  h.user_stacks = false;
  h.ringbuf_bytes = 8 << 20;
  h.max_tasks = 65536;
  h.max_stacks = 16384;
  return h;
}

common::Header analysis_header() {
  common::Header h;
  h.hostname = "testhost";
  h.kernel_release = "6.18.0";
  h.boot_id = "11111111-2222-3333-4444-555555555555";
  h.hook = common::Hook::tp_btf;
  h.init_userns_inum = kInitUserns;
  h.clock_boottime_ns = 1'000'000'000;
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", "1024"}, {"net.ipv4.ping_group_range", "1 0"}};
  return h;
}

common::CapCheck check(uint64_t time_ns, uint32_t pid, int32_t cap, bool granted, int32_t syscall_nr) {
  common::CapCheck c;
  c.time_ns = time_ns;
  c.pid = pid;
  c.tid = pid;
  c.cap = cap;
  c.granted = granted;
  c.syscall_nr = syscall_nr;
  c.target_userns_inum = 4026531837;
  return c;
}

}  // namespace capaudit::test
