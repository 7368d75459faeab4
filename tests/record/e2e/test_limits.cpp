// --max-size: the recording stops cleanly once the trace reaches the size.
#include <sys/stat.h>

#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

TEST(Limits, MaxSizeStopsTheRecordingWithATrailerThatSaysSo) {
  CAPAUDIT_REQUIRE_ROOT();
  // A setuid loop writes megabytes a second; the limit is hit at the first flush.
  auto r = record({"--max-size", "64K"}, {helper_path(), "setuid-loop", "5000000"}, "max-size");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.run.err << r.trace.read.message;
  EXPECT_EQ(r.run.exit_code(), 0) << r.run.err;  // no target status: it ran on
  EXPECT_TRUE(r.trace.trailer.max_size_reached);
  // The command ran on (--on-end detach, the default): the stop reason says so after "max-size".
  EXPECT_EQ(r.trace.trailer.stop_reason.rfind("max-size", 0), 0u) << r.trace.trailer.stop_reason;
  EXPECT_TRUE(r.trace.trailer.clean_shutdown);
  EXPECT_EQ(r.trace.trailer.counts.cap_checks, r.trace.checks.size());
  struct stat st {};
  ASSERT_EQ(stat(r.path.c_str(), &st), 0);
  EXPECT_GE(st.st_size, 64 << 10);
  EXPECT_LT(st.st_size, 64 << 20);  // a second of a setuid loop, not the whole run
}

TEST(Limits, MaxSizeIsValidatedStrictly) {
  for (const char* bad : {"", "0", "-1M", "12X", "1.5M", "63K", "99999999999999999999", "18446744073709551615G", "4M "}) {
    auto r = record({"--max-size", bad}, {"/bin/true"}, "max-size-bad");
    EXPECT_EQ(r.run.exit_code(), 2) << "'" << bad << "': " << r.run.err;
    EXPECT_NE(r.run.err.find("max-size"), std::string::npos) << r.run.err;
  }
}

}  // namespace
}  // namespace capaudit::test
