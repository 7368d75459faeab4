#include "tests/support/synthetic.h"

namespace capaudit::test {
namespace {

constexpr uint64_t kBase = 5'000'000'000;  // boottime ns of the first event
constexpr uint64_t kUserns = 4026531837;
constexpr uint64_t kFullBounding = (1ull << 41) - 1;
constexpr int32_t kNrSocket = 41, kNrSetsockopt = 54, kNrMmap = 9, kNrBind = 49, kNrCapset = 126;
constexpr int kCapNetRaw = 13, kCapNetAdmin = 12, kCapNetBindService = 10, kCapSysAdmin = 21;

common::Header header() {
  common::Header h;
  h.recorder_version = "synthetic (tests/support/make_sample)";
  h.recorder_argv = {"capaudit-record", "-o", "trace.cap", "--", "sh", "-c", "ping -c1 127.0.0.1; tiny-httpd"};
  h.target_mode = common::TargetMode::command;
  h.target = "sh -c 'ping -c1 127.0.0.1; tiny-httpd'";
  h.hostname = "synthetic";
  h.kernel_release = "6.18.0-synthetic";
  h.kernel_version = "#1 SMP PREEMPT_DYNAMIC (synthetic)";
  h.arch = "x86_64";
  h.boot_id = "00000000-0000-4000-8000-000000000001";
  h.lockdown = "none";
  h.lsms = {"capability", "landlock", "yama", "apparmor"};
  h.init_userns_inum = kUserns;
  h.clock_boottime_ns = kBase - 1'000'000;
  h.clock_realtime_ns = 1'764'442'800'000'000'000;  // 2025-11-29T19:00:00Z
  h.sysctls_global = {{"kernel.yama.ptrace_scope", "1"},
                      {"kernel.kptr_restrict", "1"},
                      {"kernel.dmesg_restrict", "1"},
                      {"kernel.perf_event_paranoid", "2"},
                      {"kernel.unprivileged_bpf_disabled", "2"},
                      {"kernel.io_uring_disabled", "0"},
                      {"vm.unprivileged_userfaultfd", "0"},
                      {"vm.mmap_min_addr", "65536"},
                      {"fs.protected_hardlinks", "1"},
                      {"fs.pipe-max-size", "1048576"},
                      {"user.max_user_namespaces", "63432"}};
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", "1024"}, {"net.ipv4.ping_group_range", "1\t0"}};
  h.target_netns_inum = 4026531840;
  h.target_rlimits = {{8, "RLIMIT_MEMLOCK", 8u << 20, 8u << 20},
                      {7, "RLIMIT_NOFILE", 1024, 524288},
                      {14, "RLIMIT_RTPRIO", 0, 0}};
  h.hook = common::Hook::tp_btf;
  h.hook_attempts = {{common::Hook::tp_btf, true, "tp_btf/cap_capable loaded and attached"}};
  h.opts_available = false;
  h.stacks_per_key = 4;
  h.user_stacks = false;
  h.ringbuf_bytes = 8u << 20;
  h.max_tasks = 65536;
  h.max_stacks = 16384;
  return h;
}

common::CapCheck check(uint64_t t, uint32_t pid, int cap, bool granted, int32_t nr, uint32_t stack) {
  common::CapCheck c;
  c.time_ns = t;
  c.pid = pid;
  c.tid = pid;
  c.cap = cap;
  c.granted = granted;
  c.syscall_nr = nr;
  c.target_userns_inum = kUserns;
  c.stack_id = stack;
  return c;
}

common::ExecEvent exec(uint64_t t, uint32_t pid, std::string file, std::vector<std::string> argv, uint32_t uid) {
  common::ExecEvent e;
  e.time_ns = t;
  e.pid = pid;
  e.tid = pid;
  e.start_time_ns = t - 200'000;
  e.filename = std::move(file);
  e.argv = std::move(argv);
  e.uid = e.euid = uid;
  e.gid = e.egid = uid;
  e.caps.bounding = kFullBounding;
  e.cgroup_id = 7777;
  e.cgroup = "/user.slice/user-1000.slice/session-1.scope";
  e.userns_inum = kUserns;
  e.netns_inum = 4026531840;
  return e;
}

}  // namespace

void write_synthetic_basic(common::TraceWriter& w) {
  w.write_header(header());

  // sh (pid 1001) is the target; it starts ping (1002) and then tiny-httpd (1003).
  w.add(common::ForkEvent{kBase, 1000, 1000, 1001, 1001, false, kBase - 100});
  auto sh = exec(kBase + 50'000, 1001, "/usr/bin/sh", {"sh", "-c", "ping -c1 127.0.0.1; tiny-httpd"}, 1000);
  w.add(sh);

  w.add(common::ForkEvent{kBase + 100'000, 1001, 1001, 1002, 1002, false, kBase + 100'000});
  auto ping = exec(kBase + 150'000, 1002, "/usr/bin/ping", {"ping", "-c1", "127.0.0.1"}, 1000);
  ping.caps.permitted = ping.caps.effective = 1ull << kCapNetRaw;
  ping.file_caps = common::FileCaps{2, 1ull << kCapNetRaw, 0, true, 0};
  w.add(ping);

  w.add(common::KernelStack{1, {"cap_capable+0x5", "security_capable+0x3d", "ns_capable+0x2d", "inet_create+0x1b2",
                                "__sock_create+0x14b", "__sys_socket+0x5d", "__x64_sys_socket+0x14", "do_syscall_64+0x5b"}});
  w.add(check(kBase + 200'000, 1002, kCapNetRaw, true, kNrSocket, 1));
  common::OperationFact sock;
  sock.time_ns = kBase + 200'100;
  sock.pid = sock.tid = 1002;
  sock.kind = common::OpKind::socket;
  sock.syscall_nr = kNrSocket;
  sock.a0 = 2;  // AF_INET
  sock.a1 = 3;  // SOCK_RAW
  sock.a2 = 1;  // IPPROTO_ICMP
  sock.uid = sock.gid = 1000;
  sock.ret = 3;
  w.add(sock);

  // SO_MARK needs CAP_NET_ADMIN, which ping does not have: denied, EPERM.
  w.add(common::KernelStack{2, {"cap_capable+0x5", "security_capable+0x3d", "ns_capable+0x2d", "sk_setsockopt+0x8a1",
                                "do_sock_setsockopt+0xb8", "__sys_setsockopt+0x71", "do_syscall_64+0x5b"}});
  w.add(check(kBase + 300'000, 1002, kCapNetAdmin, false, kNrSetsockopt, 2));
  w.add(common::SyscallOutcome{kBase + 300'500, 1002, 1002, kNrSetsockopt, -1});

  // ping drops everything once its socket is open.
  w.add(common::CapsetEvent{kBase + 400'000, 1002, 1002, 0, 0, 0});

  // Overcommit heuristics ask CAP_SYS_ADMIN on every mmap: advisory noise, a hot loop.
  w.add(common::KernelStack{3, {"cap_capable+0x5", "security_capable+0x3d", "cap_vm_enough_memory+0x1d",
                                "security_vm_enough_memory_mm+0x3a", "mmap_region+0x1e4", "do_mmap+0x3d3",
                                "vm_mmap_pgoff+0xe1", "do_syscall_64+0x5b"}});
  for (uint32_t i = 0; i < 2000; ++i) {
    w.add(check(kBase + 500'000 + 850ull * i + (i % 7) * 3, 1002, kCapSysAdmin, false, kNrMmap, i < 4 ? 3 : 0));
  }
  w.add(common::ExitEvent{kBase + 2'300'000, 1002, 1002, 0, true});

  // tiny-httpd runs as root and binds port 80 (below ip_unprivileged_port_start).
  w.add(common::ForkEvent{kBase + 2'400'000, 1001, 1001, 1003, 1003, false, kBase + 2'400'000});
  auto httpd = exec(kBase + 2'450'000, 1003, "/usr/local/sbin/tiny-httpd", {"tiny-httpd", "--port", "80"}, 0);
  httpd.caps.permitted = httpd.caps.effective = kFullBounding;
  httpd.cgroup = "/system.slice/tiny-httpd.service";
  w.add(httpd);
  w.add(common::KernelStack{4, {"cap_capable+0x5", "security_capable+0x3d", "ns_capable+0x2d", "inet_bind_sk+0x12e",
                                "__sys_bind+0x9e", "__x64_sys_bind+0x18", "do_syscall_64+0x5b"}});
  w.add(check(kBase + 2'500'000, 1003, kCapNetBindService, true, kNrBind, 4));
  common::OperationFact bind;
  bind.time_ns = kBase + 2'500'100;
  bind.pid = bind.tid = 1003;
  bind.kind = common::OpKind::bind;
  bind.syscall_nr = kNrBind;
  bind.a0 = 2;   // AF_INET
  bind.a1 = 80;  // port
  bind.a2 = 1;   // SOCK_STREAM
  bind.a3 = 6;   // IPPROTO_TCP
  bind.ret = 0;
  w.add(bind);
  // A thread of the server, then the whole server ends.
  w.add(common::ForkEvent{kBase + 2'600'000, 1003, 1003, 1003, 1004, true, kBase + 2'600'000});
  w.add(common::ExitEvent{kBase + 2'700'000, 1003, 1004, 0, false});
  w.add(common::ExitEvent{kBase + 2'800'000, 1003, 1003, 0, true});
  w.add(common::ExitEvent{kBase + 2'900'000, 1001, 1001, 0, true});

  common::Trailer t;
  t.clean_shutdown = true;
  t.end_time_ns = kBase + 3'000'000;
  t.stop_reason = "target exited";
  t.target_exit_status = 0;
  t.losses.stacks_unsampled = 1996;  // the mmap loop beyond the 4-per-key stack budget
  w.finish(t);
}

}  // namespace capaudit::test
