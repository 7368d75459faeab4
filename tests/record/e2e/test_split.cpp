// Split output, recorded for real: drop_daemon (tests/record/drop_daemon.c)
// binding port 80 eight times over ~3 s, written with --split-time 1s into
// numbered pieces. Each piece is a whole trace; capaudit-analyze given all of
// them reads one run, in any order; a missing piece is incomplete input (3).
#include <sys/wait.h>

#include <filesystem>

#include "record/start/split_writer.h"
#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

// Runs ARGS (ARGS[0] a path), returns its stdout and sets *exit_code.
std::string run_capture(const std::vector<std::string>& args, int* exit_code) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  cmd += "2>/dev/null";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

#ifdef CAPAUDIT_ANALYZE_BIN
TEST(Split, PiecesAreWholeTracesAndReadAsOneRunInAnyOrder) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string base = temp_trace_path("split");
  auto r = run_program({recorder_path(), "--no-status", "--split-time", "1s", "-o", base, "--",
                        CAPAUDIT_DROP_DAEMON, "400", "8"});
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.status;
  ASSERT_FALSE(std::filesystem::exists(base)) << "the name given with -o is never written itself";
  std::vector<std::string> pieces;
  for (uint32_t i = 1; std::filesystem::exists(record::piece_path(base, i)); ++i)
    pieces.push_back(record::piece_path(base, i));
  ASSERT_GE(pieces.size(), 3u) << "a ~3.5 s recording in 1 s pieces";

  // Each piece: a whole trace, the same run id, its own number, `continued` but the last.
  std::string run_id;
  uint64_t checks = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Trace t = load_trace(pieces[i]);
    ASSERT_EQ(t.read.status, common::ReadStatus::complete) << pieces[i] << ": " << t.read.message;
    if (i == 0) run_id = t.header.split_run_id;
    EXPECT_EQ(t.header.split_run_id, run_id);
    EXPECT_EQ(t.header.split_run_id.size(), 32u);
    EXPECT_EQ(t.header.split_piece, i + 1);
    EXPECT_EQ(t.trailer.continued, i + 1 < pieces.size()) << pieces[i];
    EXPECT_TRUE(t.trailer.clean_shutdown);
    checks += t.checks.size();
  }
  EXPECT_GT(checks, 8u);

  // The round trip: one run, complete, all eight denied binds; the same in reverse order.
  int code = -1;
  std::vector<std::string> args{CAPAUDIT_ANALYZE_BIN, "report", "-f", "json"};
  args.insert(args.end(), pieces.begin(), pieces.end());
  const std::string in_order = run_capture(args, &code);
  EXPECT_EQ(code, 0) << in_order.substr(0, 3000);
  EXPECT_EQ(count_of(in_order, "\"id\": \"run"), 1u) << "one run";
  EXPECT_NE(in_order.find("\"incomplete\": false"), std::string::npos);
  EXPECT_NE(in_order.find("bind x8"), std::string::npos) << "every piece's binds in the one run";
  EXPECT_NE(in_order.find("\"call_site\""), std::string::npos) << "the pieces' user stacks reach the joined run";
  std::vector<std::string> reversed{CAPAUDIT_ANALYZE_BIN, "report", "-f", "json"};
  reversed.insert(reversed.end(), pieces.rbegin(), pieces.rend());
  EXPECT_EQ(run_capture(reversed, &code), in_order) << "the order of the files given does not matter";
  EXPECT_EQ(code, 0);

  // info: every piece complete (each next one is given), the run whole.
  std::vector<std::string> info{CAPAUDIT_ANALYZE_BIN, "info"};
  info.insert(info.end(), pieces.begin(), pieces.end());
  const std::string info_out = run_capture(info, &code);
  EXPECT_EQ(code, 0) << info_out;
  EXPECT_NE(info_out.find("none missing"), std::string::npos) << info_out;

  // A missing middle piece: incomplete input, said plainly.
  std::vector<std::string> gap{CAPAUDIT_ANALYZE_BIN, "report", "-f", "json", pieces[0]};
  gap.insert(gap.end(), pieces.begin() + 2, pieces.end());
  const std::string gapped = run_capture(gap, &code);
  EXPECT_EQ(code, 3);
  EXPECT_NE(gapped.find("piece 2 is missing"), std::string::npos) << gapped.substr(0, 3000);
  std::vector<std::string> gap_info{CAPAUDIT_ANALYZE_BIN, "info", pieces[0]};
  gap_info.insert(gap_info.end(), pieces.begin() + 2, pieces.end());
  EXPECT_NE(run_capture(gap_info, &code).find("piece 2 is missing"), std::string::npos);
  EXPECT_EQ(code, 3);

  // The last piece missing: the one before it says the recording continued.
  std::vector<std::string> cut{CAPAUDIT_ANALYZE_BIN, "report", "-f", "json"};
  cut.insert(cut.end(), pieces.begin(), pieces.end() - 1);
  const std::string cut_out = run_capture(cut, &code);
  EXPECT_EQ(code, 3);
  EXPECT_NE(cut_out.find("pieces after this one were not read"), std::string::npos) << cut_out.substr(0, 3000);

  for (const auto& p : pieces) std::filesystem::remove(p);
}
#endif

TEST(Split, RefusesStdout) {
  auto r = run_program({recorder_path(), "--split-size", "1M", "-o", "-", "--", "/bin/true"});
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2) << r.status;
}

}  // namespace
}  // namespace capaudit::test
