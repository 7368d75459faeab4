// A writer killed with SIGKILL leaves a trace that reads up to its last
// flushed batch: the recorder's crash-safety promise, with a real process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/support/scratch_dir.h"
#include "common/trace_io.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// Child: writes checks with times 1, 2, 3, ... forever, flushing when due,
// and reports each flush on the pipe. Never returns.
[[noreturn]] void write_until_killed(const std::string& path, int report_fd) {
  OutputOptions opts;
  opts.batch_events = 1u << 30;          // only flush_if_due seals batches
  opts.flush_interval_ns = 2'000'000;  // 2 ms, so the test is quick
  auto w = TraceWriter::create(path, opts);
  w->write_header(test::example_header());
  uint64_t t = 0;
  uint64_t last_bytes = w->bytes_written();
  for (;;) {
    for (int i = 0; i < 500; ++i) w->add(test::check(++t, 77, 21, false, 9));
    w->flush_if_due(now_ns());
    if (w->bytes_written() != last_bytes) {
      last_bytes = w->bytes_written();
      const char b = 1;
      if (::write(report_fd, &b, 1) != 1) ::_exit(3);
    }
  }
}

TEST(TraceCrash, SigkilledWriterLeavesAReadableTruncatedTrace) {
  const capaudit::test::ScratchDir scratch("capaudit-crash");
  ASSERT_TRUE(scratch.ok());
  const std::filesystem::path& dir = scratch.path();
  const std::string path = (dir / "killed.cap").string();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipefd[0]);
    write_until_killed(path, pipefd[1]);
  }
  ::close(pipefd[1]);
  int flushes = 0;
  char b;
  while (flushes < 5 && ::read(pipefd[0], &b, 1) == 1) ++flushes;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipefd[0]);
  ASSERT_EQ(flushes, 5);
  ASSERT_TRUE(WIFSIGNALED(status));

  test::CollectingVisitor v;
  const ReadResult r = read_trace(path, v);
  EXPECT_EQ(r.status, ReadStatus::truncated) << r.message;
  EXPECT_GE(r.batches, 5u);
  EXPECT_EQ(v.trailers, 0);
  // Every delivered check is there, in order, with no gap: a prefix of what was written.
  ASSERT_FALSE(v.checks.empty());
  for (size_t i = 0; i < v.checks.size(); ++i) ASSERT_EQ(v.checks[i].time_ns, i + 1) << i;
}

}  // namespace
}  // namespace capaudit::common
