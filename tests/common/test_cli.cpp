// capaudit-analyze info/dump as a user runs them: output and exit codes.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/scratch_dir.h"
#include "tests/support/trace_builder.h"

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc = -1;
  std::string out;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(CAPAUDIT_ANALYZE_BIN) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kSample = std::string(CAPAUDIT_SAMPLES_DIR) + "/synthetic-basic/trace.cap";

class Cli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(scratch_.ok()); }
  std::string truncated_copy() {
    std::ifstream in(kSample, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto path = (dir_ / "cut.cap").string();
    std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 20);
    return path;
  }
  capaudit::test::ScratchDir scratch_{"capaudit-cli"};
  const fs::path& dir_ = scratch_.path();
};

TEST_F(Cli, InfoPrintsEverySectionAndExitsZero) {
  const CliRun r = run("info " + kSample);
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const char* s : {"[recorder]", "[host]", "[clock]", "[sysctls]", "[target rlimits]", "[hook]", "[sampling]",
                        "[trailer]", "[events read]", "net.ipv4.ip_unprivileged_port_start = 1024", "cap checks    2003",
                        "complete"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing " << s << " in\n" << r.out;
  }
}

// Format 1.4: checks whose clock the recorder skipped are counted, with the
// widest interval, so no one takes their times for exact.
TEST_F(Cli, InfoSaysHowManyCheckTimesAreIntervals) {
  capaudit::test::TraceBuilder b;
  capaudit::common::CapCheck timed{.time_ns = 1000, .pid = 7, .tid = 7, .cap = 7, .granted = true};
  capaudit::common::CapCheck repeat = timed;
  repeat.time_spread_ns = 4500;
  capaudit::common::CapCheck wider = timed;
  wider.time_spread_ns = 6000;
  const auto bytes = b.add(timed).add(repeat).add(wider).add(timed).finish();
  const auto path = (dir_ / "untimed.cap").string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  CliRun r = run("info " + path);
  EXPECT_NE(r.out.find("2 of them untimed repeats: time known to within 6000 ns at worst"), std::string::npos) << r.out;
  r = run("dump " + path);
  EXPECT_NE(r.out.find("within_ns=4500"), std::string::npos) << r.out;
  // Exact times say nothing.
  r = run("info " + kSample);
  EXPECT_EQ(r.out.find("untimed"), std::string::npos) << r.out;
}

TEST_F(Cli, ReadsStandardInput) {
  const CliRun r = run("info - < " + kSample);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("cap checks    2003"), std::string::npos) << r.out;
}

TEST_F(Cli, TruncatedInputExitsThreeAndSaysSo) {
  const CliRun r = run("info " + truncated_copy());
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_NE(r.out.find("truncated after 2 batches"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[trailer]"), std::string::npos);
}

TEST_F(Cli, ErrorsExitOneBadUsageTwo) {
  EXPECT_EQ(run("info " + (dir_ / "missing.cap").string()).rc, 1);
  EXPECT_EQ(run("info").rc, 2);
  EXPECT_EQ(run("info --no-such-option " + kSample).rc, 2);
  EXPECT_EQ(run("frobnicate").rc, 2);
  EXPECT_EQ(run("dump -k nonsense " + kSample).rc, 2);
  // The worst input decides: one good and one missing file is an error.
  EXPECT_EQ(run("info " + kSample + " " + (dir_ / "missing.cap").string()).rc, 1);
}

TEST_F(Cli, HelpIsGroupedAndDocumentsExitCodes) {
  for (const char* cmd : {"--help", "info --help", "dump --help"}) {
    const CliRun r = run(cmd);
    EXPECT_EQ(r.rc, 0) << cmd;
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << cmd;
  }
  EXPECT_NE(run("dump --help").out.find("Filter:"), std::string::npos);
}

TEST_F(Cli, DumpPrintsOneLinePerEvent) {
  const CliRun all = run("dump " + kSample);
  ASSERT_EQ(all.rc, 0) << all.out;
  auto count = [](const std::string& text, const std::string& word) {
    size_t n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) n += line.find(word) != std::string::npos;
    return n;
  };
  EXPECT_EQ(count(all.out, " check "), 2003u);
  EXPECT_EQ(count(all.out, " exec "), 3u);
  EXPECT_EQ(count(all.out, " fork "), 4u);
  EXPECT_EQ(count(all.out, " exit "), 4u);
  EXPECT_EQ(count(all.out, "stack id="), 4u);
  EXPECT_NE(all.out.find("CAP_NET_BIND_SERVICE granted syscall=bind"), std::string::npos);
  EXPECT_NE(all.out.find("CAP_NET_ADMIN DENIED syscall=setsockopt"), std::string::npos);
  const CliRun filtered = run("dump -k check -p 1003 " + kSample);
  EXPECT_EQ(count(filtered.out, " check "), 1u) << filtered.out;
  EXPECT_EQ(count(filtered.out, " exec "), 0u);
}

// Format 1.6: info says whether user stacks were recorded and how many, and
// how their frames are named; dump prints each frame raw.
TEST_F(Cli, InfoAndDumpShowUserStacks) {
  using namespace capaudit::common;
  Header h = capaudit::test::example_header();
  h.user_stacks = true;
  h.user_stack_depth = 32;
  capaudit::test::TraceBuilder b;
  b.header = h;
  const std::string id = "95ff61706a0a1adef7adb985ecb5408d8069a7cf";
  b.add(UserStack{1, {UserFrame{0x7f0000001234, "93ac", "/usr/lib/libc.so.6", 0x10a787, true},
                      UserFrame{0x555500003f32, id, "/opt/my app/helper", 0x3f32, true},
                      UserFrame{0, id, "", 0x2000, true},
                      UserFrame{0x7ffd00000010, "", "", 0, false}}});
  CapCheck c = capaudit::test::check(1000, 7, 10, true, 49);
  c.user_stack_id = 1;
  b.add(c);
  Trailer t;
  t.clean_shutdown = true;
  t.stop_reason = "target exited";
  t.losses.user_stack_fail = 3;  // loses no event: not counted as a loss
  const auto bytes = b.finish(t);
  const auto path = (dir_ / "ustack.cap").string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));

  const CliRun info = run("info " + path);
  ASSERT_EQ(info.rc, 0) << info.out;
  EXPECT_NE(info.out.find("user stacks:  yes, up to 32 frames each"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("user stacks   1"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("4 frames: 3 named by build ID, 0 by file and offset only, 1 by address only"), std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("losses:       none"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("3 sampled checks whose user stack could not be walked"), std::string::npos) << info.out;

  const CliRun dump = run("dump -k ustack -k check " + path);
  ASSERT_EQ(dump.rc, 0) << dump.out;
  EXPECT_NE(dump.out.find("ustack id=1 frames=4 | /usr/lib/libc.so.6+0x10a787 [93ac] ip=0x7f0000001234 | "
                          "\"/opt/my app/helper\"+0x3f32 [" + id + "] ip=0x555500003f32 | ?+0x2000 [" + id +
                          "] | 0x7ffd00000010\n"),
            std::string::npos)
      << dump.out;
  EXPECT_NE(dump.out.find("syscall=bind opts=0 userns=4026531837 stack=0 ustack=1"), std::string::npos) << dump.out;

  // A trace without user stacks says so.
  const CliRun old = run("info " + kSample);
  EXPECT_NE(old.out.find("user stacks:  no"), std::string::npos) << old.out;
}

}  // namespace
