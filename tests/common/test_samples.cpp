// Every committed sample stays readable forever, and the synthetic ones still
// hold exactly the content they were generated from.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "common/trace_io.h"
#include "tests/support/synthetic.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> committed_traces() {
  std::vector<fs::path> out;
  for (const auto& dir : fs::directory_iterator(CAPAUDIT_SAMPLES_DIR)) {
    if (!dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(dir.path())) {
      if (f.path().extension() == ".cap") out.push_back(f.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Samples, EveryCommittedTraceReadsAndHasAReadme) {
  const auto traces = committed_traces();
  ASSERT_FALSE(traces.empty()) << "no samples under " << CAPAUDIT_SAMPLES_DIR;
  for (const auto& path : traces) {
    EXPECT_TRUE(fs::exists(path.parent_path() / "README.md")) << path << " has no README.md";
    test::CollectingVisitor v;
    const ReadResult r = read_trace(path.string(), v);
    // A sample may document a truncated recording; it may never be unreadable.
    EXPECT_TRUE(r.status == ReadStatus::complete || r.status == ReadStatus::truncated) << path << ": " << r.message;
    EXPECT_TRUE(r.has_header) << path;
    EXPECT_EQ(v.header.format_major, 1u) << path;
    // Every sample predates 1.7: no new-path sampling, read as off.
    if (v.header.format_minor < 7) {
      EXPECT_EQ(v.header.paths_per_key, 0u) << path;
      EXPECT_EQ(v.header.path_frames, 0u) << path;
    }
  }
}

TEST(Samples, SyntheticBasicHoldsItsGeneratedContent) {
  const fs::path path = fs::path(CAPAUDIT_SAMPLES_DIR) / "synthetic-basic" / "trace.cap";
  test::CollectingVisitor committed;
  const ReadResult r = read_trace(path.string(), committed);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(r.batches, 2u);

  const int fd = ::memfd_create("expected", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  OutputOptions opts;
  opts.batch_events = test::kSyntheticBasicBatchEvents;
  {
    auto w = TraceWriter::from_fd(fd, false, opts);
    test::write_synthetic_basic(*w);
  }
  test::CollectingVisitor expected;
  ASSERT_EQ(read_trace("/proc/self/fd/" + std::to_string(fd), expected).status, ReadStatus::complete);
  ::close(fd);

  // Written as format 1.0; today's writer stamps its own version.
  EXPECT_EQ(committed.header.format_major, 1u);
  EXPECT_EQ(committed.header.format_minor, 0u);
  expected.header.format_minor = committed.header.format_minor;
  EXPECT_EQ(committed.header, expected.header);
  EXPECT_EQ(committed.checks, expected.checks);
  EXPECT_EQ(committed.forks, expected.forks);
  EXPECT_EQ(committed.execs, expected.execs);
  EXPECT_EQ(committed.exits, expected.exits);
  EXPECT_EQ(committed.outcomes, expected.outcomes);
  EXPECT_EQ(committed.capsets, expected.capsets);
  EXPECT_EQ(committed.operations, expected.operations);
  EXPECT_EQ(committed.stacks, expected.stacks);
  EXPECT_EQ(committed.trailers, expected.trailers);
  EXPECT_EQ(committed.trailer, expected.trailer);
  EXPECT_EQ(committed.checks.size(), 2003u);
}

}  // namespace
}  // namespace capaudit::common
