#include "tests/support/trace_builder.h"

#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>

#include "common/error.h"

namespace capaudit::test {

TraceBuilder::TraceBuilder(const common::OutputOptions& opts) {
  fd_ = ::memfd_create("capaudit-test-trace", MFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("memfd_create failed");
  writer_ = common::TraceWriter::from_fd(fd_, false, opts);
}

TraceBuilder::~TraceBuilder() {
  writer_.reset();
  if (fd_ >= 0) ::close(fd_);
}

TraceBuilder& TraceBuilder::header(const common::Header& h) {
  writer_->write_header(h);
  has_header_ = true;
  return *this;
}

void TraceBuilder::ensure_header() {
  if (!has_header_) header(example_header());
}

TraceBuilder& TraceBuilder::processes(const std::vector<common::ProcessInfo>& procs) {
  ensure_header();
  writer_->write_processes(procs);
  return *this;
}

TraceBuilder& TraceBuilder::flush() {
  ensure_header();
  writer_->flush();
  return *this;
}

std::vector<uint8_t> TraceBuilder::finish(const common::Trailer& trailer) {
  ensure_header();
  writer_->finish(trailer);
  writer_.reset();
  return contents();
}

std::vector<uint8_t> TraceBuilder::unfinished() {
  ensure_header();
  writer_->flush();
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
