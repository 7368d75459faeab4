#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/scratch_dir.h"
#include "common/error.h"
#include "common/trace_io.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

using test::check;
using test::CollectingVisitor;
using test::TraceBuilder;

ReadResult read_all(const std::vector<uint8_t>& bytes, CollectingVisitor& v) { return read_trace_bytes(bytes, v); }

ExecEvent example_exec() {
  ExecEvent e;
  e.time_ns = 2'000'000'100;
  e.pid = 100;
  e.tid = 100;
  e.old_tid = 101;
  e.start_time_ns = 1'999'000'000;
  e.filename = "/usr/bin/ping";
  e.argv = {"ping", "-c1", "localhost", ""};
  e.argv_truncated = true;
  e.uid = 1000;
  e.gid = 1000;
  e.euid = 0;
  e.egid = 0;
  e.caps = {1ull << 13, 1ull << 13, 0, ~0ull >> 23, 0};
  e.file_caps = FileCaps{3, 1ull << 13, 0, true, 0};
  e.cgroup_id = 12345;
  e.cgroup = "/user.slice/user-1000.slice";
  e.userns_inum = 4026531837;
  e.netns_inum = 4026531840;
  return e;
}

OperationFact example_operation(std::optional<int64_t> ret) {
  OperationFact o;
  o.time_ns = 2'000'000'300;
  o.pid = 100;
  o.tid = 100;
  o.kind = OpKind::bind;
  o.syscall_nr = 49;
  o.a0 = 2;
  o.a1 = 80;
  o.a2 = 1;
  o.a3 = -6;
  o.uid = 1000;
  o.gid = 1000;
  o.ret = ret;
  return o;
}

// A user-space call path as the recorder stores it (1.6): frames the kernel
// named by build ID, one whose file the recorder found in /proc/PID/maps, and
// one nobody could name.
UserStack example_user_stack() {
  UserStack u;
  u.id = 7;
  u.frames = {
      {0x55d0c0a01234, "0123456789abcdef0123456789abcdef01234567", "/usr/sbin/helper", 0x1234, true},
      {0, "0123456789abcdef0123456789abcdef01234567", "", 0x2000, true},  // the kernel gave only file + offset
      {0x7f0011223344, "", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x27344, true},
      {0x7ffd00000010, "", "", 0, false},
  };
  // 1.7: the word at [sp], named in the executable, with the code before it.
  u.leaf = UserLeaf{{0x55d0c0a01300, "0123456789abcdef0123456789abcdef01234567", "/usr/sbin/helper", 0x1300, true},
                    0xfffe8be8c7894800, true};
  return u;
}

TEST(TraceRoundTrip, EveryMessageKind) {
  Header header = test::example_header();
  header.outcome_mechanism = OutcomeMechanism::none;  // 1.5
  header.outcome_reason = "--outcomes off";
  header.user_stacks = true;  // 1.6
  header.user_stack_depth = 32;
  header.containers = {{std::string(64, 'a'), "web", "podman", "/libpod_parent/libpod-" + std::string(64, 'a')},
                       {std::string(64, 'b'), "", "", "/system.slice/docker-" + std::string(64, 'b') + ".scope"}};  // 1.6
  header.outcome_tracking = OutcomeTracking::in_windows;  // 1.6
  header.outcome_window_ns = 1'000'000'000;
  header.split_run_id = "0123456789abcdef0123456789abcdef";  // 1.6
  header.split_piece = 2;
  header.paths_per_key = 8;  // 1.7
  header.path_frames = 8;
  header.path_free_checks = 32;
  ProcessInfo proc;
  proc.pid = 42;
  proc.ppid = 1;
  proc.start_time_ns = 77;
  proc.exe = "/usr/sbin/sshd";
  proc.argv = {"sshd", "-D"};
  proc.uid = proc.euid = 0;
  proc.caps.effective = ~0ull >> 23;
  proc.file_caps = FileCaps{2, 1, 2, false, 0};
  proc.cgroup = "/system.slice/ssh.service";
  ProcessInfo bare;
  bare.pid = 43;

  const ForkEvent fork{2'000'000'000, 42, 42, 100, 100, false, 1'999'000'000};
  const ExecEvent exec = example_exec();
  const ExitEvent exit{2'000'000'900, 100, 100, 256, true};
  const SyscallOutcome outcome{2'000'000'400, 100, 100, 41, -1};
  const CapsetEvent capset{2'000'000'500, 100, 100, 1, 3, 0};
  CapsetEvent cred_change{2'000'000'600, 100, 101, 0, 0, 0, CapsetSource::cred_change, 0, CredIds{0, 65534, 0, 65534}};
  cred_change.ambient = 1u << 10;
  const KernelStack stack{1, {"cap_capable+0x5", "ns_capable+0x2d", "__sys_bind+0x9e"}};
  const UserStack ustack = example_user_stack();  // 1.6
  ExecEvent exec_no_filecaps = exec;
  exec_no_filecaps.file_caps.reset();

  Trailer trailer;
  trailer.clean_shutdown = true;
  trailer.end_time_ns = 3'000'000'000;
  trailer.stop_reason = "target exited";
  trailer.target_exit_status = 256;
  trailer.losses = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // 11, 12: 1.7
  trailer.outcomes_from_ns = 2'000'000'300;
  trailer.max_size_reached = true;  // 1.5
  trailer.outcome_windows = 1;       // 1.6
  trailer.outcome_windows_ns = 600;
  trailer.continued = true;
  const OutcomeWindow opened{2'000'000'300, 0, 2'000'000'250, 100, 100, 10, 49, WindowEnd::open, 0};
  OutcomeWindow closed = opened;
  closed.end_ns = 2'000'000'900;
  closed.closed_by = WindowEnd::quiet;
  closed.denials = 3;

  TraceBuilder b;
  b.header = header;
  b.snapshot({proc, bare});
  b.add(stack).add(ustack).add(fork).add(exec).add(exec_no_filecaps);
  CapCheck repeat = check(2'000'000'260, 100, 10, false, 49);
  repeat.time_spread_ns = 1234;  // 1.4: an untimed repeat
  CapCheck borrowed = check(2'000'000'270, 100, 1, true, 92);
  borrowed.checked_cred = CheckedCred::foreign;  // 1.5: the overlayfs mounter's
  borrowed.checked_euid = 0;
  borrowed.user_stack_id = ustack.id;  // 1.6
  b.add(check(2'000'000'200, 100, 13, true, 41)).add(check(2'000'000'250, 100, 10, false, 49)).add(repeat).add(borrowed);
  b.add(opened).add(closed);
  b.add(outcome).add(capset).add(cred_change).add(example_operation(-13)).add(example_operation(std::nullopt)).add(exit);
  const auto bytes = b.finish(trailer);

  CollectingVisitor v;
  const ReadResult r = read_all(bytes, v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_TRUE(r.has_header);
  EXPECT_TRUE(r.has_trailer);
  EXPECT_EQ(r.batches, 1u);

  Header expected_header = header;
  expected_header.format_major = 1;
  expected_header.format_minor = 9;
  EXPECT_EQ(v.header, expected_header);
  EXPECT_EQ(v.headers, 1);
  EXPECT_EQ(v.processes, (std::vector<ProcessInfo>{proc, bare}));
  EXPECT_EQ(v.stacks, std::vector<KernelStack>{stack});
  EXPECT_EQ(v.user_stacks, std::vector<UserStack>{ustack});
  EXPECT_EQ(v.forks, std::vector<ForkEvent>{fork});
  EXPECT_EQ(v.execs, (std::vector<ExecEvent>{exec, exec_no_filecaps}));
  EXPECT_EQ(v.checks,
            (std::vector<CapCheck>{check(2'000'000'200, 100, 13, true, 41), check(2'000'000'250, 100, 10, false, 49), repeat, borrowed}));
  EXPECT_EQ(v.outcomes, std::vector<SyscallOutcome>{outcome});
  EXPECT_EQ(v.capsets, (std::vector<CapsetEvent>{capset, cred_change}));
  EXPECT_EQ(v.operations, (std::vector<OperationFact>{example_operation(-13), example_operation(std::nullopt)}));
  EXPECT_EQ(v.exits, std::vector<ExitEvent>{exit});
  EXPECT_EQ(v.windows, (std::vector<OutcomeWindow>{opened, closed}));
  ASSERT_EQ(v.trailers, 1);

  Trailer expected_trailer = trailer;
  expected_trailer.counts = {4, 1, 2, 1, 1, 2, 2, 1, 1};  // the writer's own tally
  EXPECT_EQ(v.trailer, expected_trailer);
}

// User stacks across batches: each batch names its own files (a reader of
// one batch needs no other), the same file twice in a batch is stored once,
// and frames keep exactly what was known about them.
TEST(TraceRoundTrip, UserStacksAndTheirFiles) {
  const std::string libc = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
  std::vector<UserStack> stacks;
  for (uint32_t id = 1; id <= 5; ++id) {
    UserStack u;
    u.id = id;
    for (uint32_t j = 0; j < id; ++j) {
      UserFrame f;
      f.ip = 0x400000 + 16 * id + j;
      if (j % 2 == 0) f.build_id = libc;
      if (j % 3 != 2) f.path = j % 2 ? "/opt/a b/prog" : "/lib/libc.so.6";
      f.has_offset = j != 4;
      f.file_offset = f.has_offset ? 0x1000 * j + id : 0;
      u.frames.push_back(f);
    }
    stacks.push_back(u);
  }
  stacks.push_back(UserStack{6, {}, std::nullopt});  // nothing walked
  // 1.7 leaves: one named in a file no frame of the batch names, one that
  // shares its file with frames, one bare word without code, one all zero.
  stacks[0].leaf = UserLeaf{{0x555500001005, "", "/opt/other", 0x1005, true}, 0x1122334455667788, true};
  stacks[2].leaf = UserLeaf{{0x400111, libc, "/lib/libc.so.6", 0x111, true}, 0, true};
  stacks[3].leaf = UserLeaf{{0x7ffd12345678, "", "", 0, false}, 0, false};
  stacks[5].leaf = UserLeaf{};
  TraceBuilder b;
  for (size_t i = 0; i < stacks.size(); ++i) {
    b.add(stacks[i]);
    CapCheck c = check(1000 + i, 9, 12, true, 54);
    c.user_stack_id = stacks[i].id;
    b.add(c);
    if (i % 2) b.flush();
  }
  CollectingVisitor v;
  const ReadResult r = read_all(b.finish(), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.user_stacks, stacks);
  ASSERT_EQ(v.checks.size(), stacks.size());
  for (size_t i = 0; i < stacks.size(); ++i) EXPECT_EQ(v.checks[i].user_stack_id, stacks[i].id);
  ASSERT_EQ(v.trailers, 1);
  EXPECT_EQ(v.trailer.counts.user_stacks, stacks.size());
}

TEST(TraceRoundTrip, WriterRefusesABuildIdThatIsNotHex) {
  for (const std::string& bad : std::vector<std::string>{"ABCDEF", "abc", "xy", std::string(66, 'a')}) {
    TraceBuilder b;
    UserStack u{1, {UserFrame{1, bad, "", 0, false}}, std::nullopt};
    EXPECT_THROW(b.add(u), Error) << bad;
    UserStack leaf{2, {UserFrame{1, "", "", 0, false}}, UserLeaf{UserFrame{2, bad, "/bin/x", 2, true}, 0, false}};
    EXPECT_THROW(b.add(leaf), Error) << "leaf " << bad;
  }
}

// Every column shape: omitted (default), one shared value, one value per event,
// negative and huge time steps.
TEST(TraceRoundTrip, CapCheckColumnShapes) {
  std::vector<std::vector<CapCheck>> cases;
  {  // all defaults except time
    CapCheck c;
    cases.push_back({c, c, c});
  }
  {  // shared non-default values, constant time step
    std::vector<CapCheck> v;
    for (int i = 0; i < 100; ++i) v.push_back(check(1000 + 10 * i, 7, 21, true, 165));
    cases.push_back(v);
  }
  {  // everything varies, times go backwards and jump by more than 2^32
    std::vector<CapCheck> v;
    uint64_t t = 5'000'000'000;
    for (int i = 0; i < 300; ++i) {
      CapCheck c;
      t = (i % 7 == 3) ? t - 17 : t + (uint64_t{1} << (i % 40));
      c.time_ns = t;
      c.pid = 100 + i % 3;
      c.tid = 1000 + i;
      c.cap = i % 41;
      c.granted = i % 2;
      c.syscall_nr = i % 5 == 0 ? -1 : i;
      c.opts = i % 4;
      c.target_userns_inum = 4026531837ull + i % 2;
      c.stack_id = i % 9;
      c.user_stack_id = i % 4;
      v.push_back(c);
    }
    cases.push_back(v);
  }
  {  // a single event
    cases.push_back({check(UINT64_MAX - 5, 1, 63, false, 0)});
  }
  for (uint64_t jitter : {3ull, 200ull, 60000ull, 1ull << 40}) {  // time planes of width 1, 1, 2, 6
    std::vector<CapCheck> v;
    uint64_t t = 77;
    for (uint64_t i = 0; i < 500; ++i) {
      t += 1000 + (i * 2654435761u) % jitter;
      v.push_back(check(t, 3, 21, false, 9));
    }
    cases.push_back(v);
  }
  for (size_t k = 0; k < cases.size(); ++k) {
    TraceBuilder b;
    for (const auto& c : cases[k]) b.add(c);
    CollectingVisitor v;
    const ReadResult r = read_all(b.finish(), v);
    ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
    EXPECT_EQ(v.checks, cases[k]) << "case " << k;
  }
}

TEST(TraceRoundTrip, ShapesCompressTheHotLoop) {
  // Columns shared by all events are stored once: a hot loop costs almost nothing.
  TraceBuilder b;
  for (int i = 0; i < 60000; ++i) b.add(check(1'000'000 + 100ull * i, 5, 12, true, 54));
  const auto bytes = b.finish();
  EXPECT_LT(bytes.size(), 2000u);
}

TEST(TraceRoundTrip, BatchesSplitAtBatchEventsAndKeepOrder) {
  OutputOptions opts;
  opts.batch_events = 100;
  TraceBuilder b(opts);
  std::vector<CapCheck> expected;
  for (int i = 0; i < 1050; ++i) {
    expected.push_back(check(10ull * i + (i * 7919) % 13, 1 + i % 4, i % 38, i % 3 != 0, i % 300));
    b.add(expected.back());
  }
  CollectingVisitor v;
  const ReadResult r = read_all(b.finish(), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(r.batches, 11u);
  EXPECT_EQ(v.checks, expected);
  ASSERT_EQ(v.trailers, 1);
  EXPECT_EQ(v.trailer.counts.cap_checks, 1050u);
}

TEST(TraceRoundTrip, LargeBatchIsDeliveredInBoundedChunks) {
  OutputOptions opts;
  opts.batch_events = 200'000;
  TraceBuilder b(opts);
  for (int i = 0; i < 150'000; ++i) b.add(check(3ull * i + (i & 1), 9, 7, true, i & 0xff));
  CollectingVisitor v;
  const ReadResult r = read_all(b.finish(), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(r.batches, 1u);
  ASSERT_EQ(v.checks.size(), 150'000u);
  EXPECT_GE(v.check_calls, 3u);  // 65536 per call at most
  for (int i = 0; i < 150'000; i += 4999) {
    EXPECT_EQ(v.checks[i], check(3ull * i + (i & 1), 9, 7, true, i & 0xff)) << i;
  }
}

TEST(TraceRoundTrip, FlushIfDueSealsAfterTheInterval) {
  OutputOptions opts;
  opts.flush_interval_ns = 1000;
  auto fd = ::memfd_create("t", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto w = TraceWriter::from_fd(fd, true, opts);
  w->write_header(test::example_header());
  w->add(check(1, 1, 1));
  const uint64_t at_start = w->bytes_written();
  w->flush_if_due(10'000);  // the first call is due: early events reach the file early
  EXPECT_GT(w->bytes_written(), at_start);
  w->add(check(2, 1, 1));
  const uint64_t before = w->bytes_written();
  w->flush_if_due(10'500);  // not due yet
  EXPECT_EQ(w->bytes_written(), before);
  w->flush_if_due(11'000);  // due: the batch is on disk without finish()
  EXPECT_GT(w->bytes_written(), before);
  const uint64_t after = w->bytes_written();
  w->flush_if_due(20'000);  // nothing pending: no empty batch
  EXPECT_EQ(w->bytes_written(), after);
}

TEST(TraceRoundTrip, UnfinishedTraceIsTruncatedButKeepsItsBatches) {
  TraceBuilder b;
  b.add(check(1, 1, 1)).flush().add(check(2, 1, 2)).flush();
  CollectingVisitor v;
  const ReadResult r = read_all(b.unfinished(), v);
  EXPECT_EQ(r.status, ReadStatus::truncated);
  EXPECT_EQ(r.batches, 2u);
  EXPECT_EQ(v.checks.size(), 2u);
  EXPECT_EQ(v.trailers, 0);
  EXPECT_NE(r.message.find("truncated after 2 batches"), std::string::npos) << r.message;
}

TEST(TraceRoundTrip, DashWritesToStdout) {
  const int fd = ::memfd_create("stdout", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(fd, STDOUT_FILENO);
    auto w = TraceWriter::create("-");
    w->write_header(test::example_header());
    w->add(check(9, 8, 7));
    w->finish({});
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CollectingVisitor v;
  const ReadResult r = read_trace("/proc/self/fd/" + std::to_string(fd), v);
  ::close(fd);
  EXPECT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.checks, std::vector<CapCheck>{check(9, 8, 7)});
}

TEST(TraceRoundTrip, BytesAfterTheTrailerAreCorrupt) {
  TraceBuilder b;
  b.add(check(1, 1, 1));
  auto bytes = b.finish();
  const uint64_t end = bytes.size();
  bytes.push_back(0x28);  // could be the start of a zstd frame; still not allowed after the trailer
  CollectingVisitor v;
  const ReadResult r = read_all(bytes, v);
  EXPECT_EQ(r.status, ReadStatus::corrupt);
  EXPECT_EQ(r.error_offset, end);
  EXPECT_TRUE(r.has_trailer);
  EXPECT_NE(r.message.find("after the trailer"), std::string::npos) << r.message;
}

TEST(TraceRoundTrip, WriterMisuseThrows) {
  auto fd = ::memfd_create("t", MFD_CLOEXEC);
  auto w = TraceWriter::from_fd(fd, true);
  EXPECT_THROW(w->add(check(1, 1, 1)), Error);
  w->write_header(test::example_header());
  EXPECT_THROW(w->write_header(test::example_header()), Error);
  w->finish({});
  EXPECT_THROW(w->add(check(1, 1, 1)), Error);
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(scratch_.ok()); }
  capaudit::test::ScratchDir scratch_{"capaudit-test"};
  const std::filesystem::path& dir_ = scratch_.path();
};

using TraceFile = TempDir;

TEST_F(TraceFile, CreatesMode0600AndReadsBack) {
  const auto path = (dir_ / "t.cap").string();
  const mode_t old = ::umask(0);
  auto w = TraceWriter::create(path);
  ::umask(old);
  w->write_header(test::example_header());
  w->add(check(5, 6, 7));
  w->finish({});
  const uint64_t written = w->bytes_written();
  w.reset();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), written);
  CollectingVisitor v;
  const ReadResult r = read_trace(path, v);
  EXPECT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.checks, std::vector<CapCheck>{check(5, 6, 7)});
}

TEST_F(TraceFile, NeverOverwritesAndNamesThePath) {
  const auto path = (dir_ / "exists.cap").string();
  std::ofstream(path) << "precious";
  try {
    TraceWriter::create(path);
    FAIL() << "overwrote " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint.empty());
  }
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(TraceFile, RefusesSymlinks) {
  const auto target = (dir_ / "target").string();
  const auto link = (dir_ / "link.cap").string();
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THROW(TraceWriter::create(link), Error);
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(TraceFile, ChownsToTheOwnerWhenAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  const auto path = (dir_ / "owned.cap").string();
  OutputOptions opts;
  opts.owner_uid = 65534;
  opts.owner_gid = 65534;
  TraceWriter::create(path, opts)->write_header(test::example_header());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(TraceFile, ReportsMissingAndForeignFiles) {
  CollectingVisitor v;
  ReadResult r = read_trace((dir_ / "missing").string(), v);
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_NE(r.message.find("missing"), std::string::npos);
  const auto foreign = (dir_ / "foreign").string();
  std::ofstream(foreign) << "#!/bin/sh\necho this is not a trace\n";
  r = read_trace(foreign, v);
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_NE(r.message.find("not a capaudit trace"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace capaudit::common

namespace capaudit::common {
namespace {

// 1.5: the context of a capability check and a bind's network namespace
// value survive the round trip, unset state slots included.
TEST(TraceRoundTrip, CheckContextFacts) {
  OperationFact chk;
  chk.time_ns = 2'000'000'100;
  chk.pid = chk.tid = 100;
  chk.kind = OpKind::cap_check;
  chk.syscall_nr = 149;  // mlock
  chk.cap = 14;
  chk.granted = true;
  chk.stack_id = 1;
  chk.args = {0x7f0000000000, 16 << 20, 0, -1, 0, 0};
  chk.user_words = {1, -2};
  chk.state.assign(static_cast<size_t>(StateSlot::count), kStateUnset);
  chk.state[static_cast<size_t>(StateSlot::locked_vm)] = 3;
  chk.state[static_cast<size_t>(StateSlot::memlock_soft)] = 8 << 20;
  chk.state[static_cast<size_t>(StateSlot::rtprio_soft)] = -1;  // RLIM_INFINITY
  chk.uid = chk.gid = 0;
  OperationFact bind = example_operation(0);
  bind.state.assign(static_cast<size_t>(StateSlot::count), kStateUnset);
  bind.state[static_cast<size_t>(StateSlot::port_start)] = 0;

  TraceBuilder b;
  b.add(KernelStack{1, {"cap_capable+0x5", "do_mlock+0x40"}}).add(chk).add(bind);
  Trailer t;
  t.clean_shutdown = true;
  CollectingVisitor v;
  const ReadResult r = read_all(b.finish(t), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.operations, (std::vector<OperationFact>{chk, bind}));
  ASSERT_EQ(v.operations.size(), 2u);
  EXPECT_EQ(v.operations[0].state_at(StateSlot::memlock_soft), std::optional<int64_t>(8 << 20));
  EXPECT_EQ(v.operations[0].state_at(StateSlot::port_start), std::nullopt);
  EXPECT_EQ(v.operations[1].state_at(StateSlot::port_start), std::optional<int64_t>(0));
  EXPECT_EQ(v.operations[1].state_at(StateSlot::locked_vm), std::nullopt);
}

// 1.8: operation facts taken at syscall exit (--facts sys_exit) keep their
// kind (setpriority is new in 1.8), a0/a1, return value and context.
TEST(TraceRoundTrip, SyscallExitFacts) {
  OperationFact open;
  open.time_ns = 3'000'000'000;
  open.pid = open.tid = 101;
  open.kind = OpKind::open_sensitive;
  open.syscall_nr = 257;  // openat
  open.a0 = 2;            // /dev/kmsg
  open.a1 = 0x8800;       // O_RDONLY | O_NONBLOCK | O_LARGEFILE
  open.ret = 3;
  open.args = {-100, 0x5555, 0x800, 0, 0, 0};
  open.state.assign(static_cast<size_t>(StateSlot::count), kStateUnset);
  open.state[static_cast<size_t>(StateSlot::locked_vm)] = 0;
  OperationFact nice = open;
  nice.kind = OpKind::setpriority;
  nice.syscall_nr = 141;
  nice.a0 = nice.a1 = 0;
  nice.ret = 0;
  nice.args = {0, 0, static_cast<int64_t>(static_cast<uint32_t>(-5)), 0, 0, 0};
  nice.state[static_cast<size_t>(StateSlot::nice_soft)] = 0;

  TraceBuilder b;
  b.add(open).add(nice);
  Trailer t;
  t.clean_shutdown = true;
  CollectingVisitor v;
  const ReadResult r = read_all(b.finish(t), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.operations, (std::vector<OperationFact>{open, nice}));
  EXPECT_EQ(v.header.format_minor, 9u);
}

// 1.9: the kernel's build configuration symbols, with the file they came
// from; a recording where no config file was readable says why instead.
TEST(TraceRoundTrip, KernelConfig) {
  for (const bool readable : {true, false}) {
    TraceBuilder b;
    if (readable) {
      b.header.kernel_config_source = "/boot/config-6.1.0-31-cloud-amd64";
      b.header.kernel_config = {{"CONFIG_SECURITY_PERF_EVENTS_RESTRICT", "y"}, {"CONFIG_OTHER", "absent"}};
    } else {
      b.header.kernel_config_missing = "no /proc/config.gz; /boot/config-6.18.0: No such file or directory";
    }
    Trailer t;
    t.clean_shutdown = true;
    CollectingVisitor v;
    const ReadResult r = read_all(b.finish(t), v);
    ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
    EXPECT_EQ(v.header.kernel_config_source, b.header.kernel_config_source);
    EXPECT_EQ(v.header.kernel_config, b.header.kernel_config);
    EXPECT_EQ(v.header.kernel_config_missing, b.header.kernel_config_missing);
  }
}

// 1.9: a link fact (may_linkat()) keeps its thirteen state slots and its
// missing return value; the header says whether link facts were recorded
// and why not.
TEST(TraceRoundTrip, LinkFacts) {
  OperationFact link;
  link.time_ns = 3'000'000'500;
  link.pid = link.tid = 102;
  link.kind = OpKind::link;
  link.syscall_nr = 86;
  link.args = {0x1000, 0x2000, 0, 0, 0, 0};
  link.state.assign(static_cast<size_t>(StateSlot::count), kStateUnset);
  link.state[static_cast<size_t>(StateSlot::link_src_uid)] = 65534;
  link.state[static_cast<size_t>(StateSlot::link_src_gid)] = 65534;
  link.state[static_cast<size_t>(StateSlot::link_src_mode)] = 0100644;
  link.state[static_cast<size_t>(StateSlot::fsuid)] = 0;
  link.state[static_cast<size_t>(StateSlot::fsgid)] = 0;
  link.state[static_cast<size_t>(StateSlot::link_src_in_groups)] = 0;

  for (bool recorded : {true, false}) {
    Header h = test::example_header();
    h.link_facts = recorded;
    h.link_facts_reason = recorded ? "fentry/may_linkat attached" : "unavailable: neither a trampoline nor a kprobe";
    TraceBuilder b(h);
    if (recorded) b.add(link);
    Trailer t;
    t.clean_shutdown = true;
    CollectingVisitor v;
    const ReadResult r = read_all(b.finish(t), v);
    ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
    EXPECT_EQ(v.header.link_facts, recorded);
    EXPECT_EQ(v.header.link_facts_reason, h.link_facts_reason);
    if (!recorded) continue;
    ASSERT_EQ(v.operations.size(), 1u);
    EXPECT_EQ(v.operations[0], link);
    EXPECT_EQ(v.operations[0].ret, std::nullopt);
    EXPECT_EQ(v.operations[0].state_at(StateSlot::link_src_mode), std::optional<int64_t>(0100644));
  }
}

}  // namespace
}  // namespace capaudit::common
