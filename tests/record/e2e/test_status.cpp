// The live status line: where it shows, and that what it says is current.
#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <sstream>

#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

std::vector<std::string> status_lines(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("[capaudit] ", 0) == 0) lines.push_back(line);
  return lines;
}

// "losses none" -> 0, "losses 12" -> 12
uint64_t losses_in(const std::string& line) {
  auto pos = line.find("losses ");
  if (pos == std::string::npos) return UINT64_MAX;
  std::string word = line.substr(pos + 7);
  return word.rfind("none", 0) == 0 ? 0 : std::stoull(word);
}

// stderr on a pipe (run_program's), the status line left to the recorder.
Recording record_with_status(const std::vector<std::string>& extra, const std::vector<std::string>& cmd,
                             const std::string& tag) {
  return record(extra, cmd, tag, StatusLine::as_the_recorder_decides);
}

TEST(Status, OnAPipeOnlyWithVerboseOneLineEachSecond) {
  CAPAUDIT_REQUIRE_ROOT();
  // Two setuid() calls 1.2 s apart: at least two lines, the first at the start.
  const std::vector<std::string> cmd{helper_path(), "repeat", "2", "1.2", "setuid"};
  auto quiet = record_with_status({}, cmd, "status-quiet");
  ASSERT_EQ(quiet.trace.read.status, common::ReadStatus::complete) << quiet.run.err;
  EXPECT_EQ(quiet.run.err.find("[capaudit]"), std::string::npos) << quiet.run.err;

  auto loud = record_with_status({"-v"}, cmd, "status-loud");
  ASSERT_EQ(loud.trace.read.status, common::ReadStatus::complete) << loud.run.err;
  EXPECT_EQ(loud.run.err.find('\r'), std::string::npos) << "a pipe gets whole lines";
  auto lines = status_lines(loud.run.err);
  ASSERT_GE(lines.size(), 2u) << loud.run.err;
  for (const auto& line : lines) {
    EXPECT_NE(line.find(" checks "), std::string::npos) << line;
    EXPECT_NE(line.find(" capabilities "), std::string::npos) << line;
    EXPECT_NE(losses_in(line), UINT64_MAX) << line;
  }
  EXPECT_EQ(losses_in(lines.back()), 0u);

  auto silenced = record_with_status({"-v", "--no-status"}, cmd, "status-off");
  ASSERT_EQ(silenced.trace.read.status, common::ReadStatus::complete) << silenced.run.err;
  EXPECT_EQ(silenced.run.err.find("[capaudit]"), std::string::npos) << silenced.run.err;
}

// A flood into a tiny ring buffer, then a quiet second and a half: the line
// printed after the flood must already count its drops. (It used to show the
// counters read for the line before, a second late.)
TEST(Status, TheLineCountsLossesUpToItsOwnTime) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string flood = std::string(helper_path()) + " setuid-loop 100000 && " + helper_path() + " sleep 1.5";
  auto r = record_with_status({"-v", "--ringbuf-size", "16K", "--stacks-per-key", "0"}, {"/bin/sh", "-c", flood},
                              "status-losses");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.run.err;
  auto lines = status_lines(r.run.err);
  ASSERT_GE(lines.size(), 2u) << r.run.err;
  const uint64_t lost = record::total_lost(r.trace.trailer.losses);
  std::cout << "flood: " << lost << " lost; last status line: " << lines.back() << "\n";
  // Nothing is lost after the flood, so the last line says the trailer's figure.
  EXPECT_EQ(losses_in(lines.back()), lost) << r.run.err;
}

// On a terminal the line is rewritten in place.
TEST(Status, ATerminalGetsOneLineRewrittenInPlace) {
  CAPAUDIT_REQUIRE_ROOT();
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  const std::string path = temp_trace_path("status-tty");
  const std::vector<std::string> argv{recorder_path(), "-o", path, "--", helper_path(), "repeat", "2", "1.2", "setuid"};
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(slave, STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(slave);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("\r[capaudit] "), std::string::npos) << out;
  EXPECT_NE(out.find(" checks "), std::string::npos) << out;
  EXPECT_EQ(load_trace(path).read.status, common::ReadStatus::complete);
}

}  // namespace
}  // namespace capaudit::test
