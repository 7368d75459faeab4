// The program's call site of each capability, on real recordings (issue 18,
// items 3-4): the test helper (built with -g and frame pointers) makes a
// privileged operation under capaudit-record; capaudit-analyze report must
// name the helper's function that called libc's wrapper and its source line,
// from the helper's own debuginfo, and the line must be the one binutils'
// addr2line gives for the recorded offset. libc keeps no frame pointers, so
// the frame-pointer walk skips that function: it comes from the return
// address read at the stack pointer at syscall entry (format 1.7). A stripped copy, a copy replaced after recording, and a
// --debuginfo root are recorded and analyzed the same way.
#include <linux/capability.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "tests/record/e2e_support.h"
#include "tests/support/scratch_dir.h"

namespace capaudit::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

RunResult analyze(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CAPAUDIT_ANALYZE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

// The virtual address of a file offset, from `readelf -lW`.
uint64_t vaddr_of(const std::string& path, uint64_t offset) {
  std::istringstream in(command_output("readelf -lW '" + path + "'"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string type, off, vaddr, paddr, filesz;
    if (!(f >> type >> off >> vaddr >> paddr >> filesz) || type != "LOAD") continue;
    const uint64_t o = std::stoull(off, nullptr, 16), sz = std::stoull(filesz, nullptr, 16);
    if (offset >= o && offset < o + sz) return offset - o + std::stoull(vaddr, nullptr, 16);
  }
  ADD_FAILURE() << "no LOAD segment of " << path << " holds offset " << offset;
  return 0;
}

// The source line binutils gives for the call before a return address.
uint32_t addr2line_line(const std::string& path, uint64_t return_vaddr) {
  char a[32];
  std::snprintf(a, sizeof a, "0x%llx", static_cast<unsigned long long>(return_vaddr - 1));
  const std::string out = command_output("addr2line -e '" + path + "' " + a);  // "FILE:LINE" or "FILE:LINE (discriminator N)"
  const auto colon = out.rfind(':', out.find(" (") == std::string::npos ? std::string::npos : out.find(" ("));
  return colon == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(out.c_str() + colon + 1, nullptr, 10));
}

// A port below 1024 few other tests use (they run at the same time).
std::string low_port() {
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  return std::to_string(600 + rng() % 300);
}

// The first user path of capability `cap` of executable `exe` in the JSON report.
Json user_path(const Json& report, const std::string& exe, const std::string& cap) {
  for (const auto& e : report["executables"])
    if (e["path"] == exe)
      for (const auto& c : e["caps"])
        if (c["name"] == cap && !c["user_paths"].empty()) return c["user_paths"][0];
  return Json();
}

struct Case {
  const char* op;
  const char* cap;
  const char* function;  // the helper function that calls libc's wrapper
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.op; }

class CallSiteTest : public ::testing::TestWithParam<Case> {};

TEST_P(CallSiteTest, ReportNamesTheHelpersFunctionAndSourceLine) {
  CAPAUDIT_REQUIRE_ROOT();
  const Case& c = GetParam();
  const std::string helper = fs::canonical(helper_path()).string();
  std::vector<std::string> cmd{helper, c.op};
  if (std::string(c.op).rfind("bind", 0) == 0) cmd.push_back(low_port());
  auto r = record({}, cmd, c.op);
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;

  auto json = analyze({"report", "-f", "json", r.path});
  const Json j = Json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.err;
  const Json p = user_path(j, helper, c.cap);
  ASSERT_TRUE(p.is_object()) << c.cap << " has no user path in " << json.out;
  ASSERT_TRUE(p["call_site"].is_number()) << p.dump(2);
  const Json& site = p["frames"][p["call_site"].get<size_t>()];
  EXPECT_EQ(site["object"], helper) << p.dump(2);
  EXPECT_EQ(site["build_id"], readelf_build_id(helper));
  EXPECT_EQ(site["source"], "debuginfo") << site.dump(2);
  EXPECT_EQ(site["problem"], "");
  const std::string function = site["function"].get<std::string>();
  EXPECT_NE(function.find(c.function), std::string::npos) << "the caller of libc's wrapper, not its caller's caller: "
                                                          << p.dump(2);
  const std::string file = site["file"].get<std::string>();
  EXPECT_EQ(fs::path(file).filename(), "capaudit_test_helper.cpp") << file;
  const uint32_t line = site["line"].get<uint32_t>();
  EXPECT_GT(line, 0u);
  EXPECT_EQ(line, addr2line_line(helper, vaddr_of(helper, site["offset"].get<uint64_t>())));
  // The wrapper is libc's (no frame pointers there: the walk resumes in the helper).
  ASSERT_TRUE(p["wrapper"].is_number());
  const Json& wrapper = p["frames"][p["wrapper"].get<size_t>()];
  EXPECT_NE(wrapper["object"].get<std::string>().find("libc"), std::string::npos) << wrapper.dump();
  // The site is the wrapper's caller, read at [sp], right after the wrapper.
  EXPECT_EQ(p["call_site"].get<size_t>(), p["wrapper"].get<size_t>() + 1) << p.dump(2);
  EXPECT_EQ(site["from_entry_sp"], true) << site.dump(2);

  auto text = analyze({"report", "--config", "none", "--width", "2000", r.path});  // C++ names are long
  EXPECT_NE(text.out.find("` in `" + function + "` (" + file + ":" + std::to_string(line) + ")"), std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("reached from `" + function), std::string::npos) << text.out;
  // dump names the same frame; --no-symbolize leaves it file+offset.
  // (dump quotes a name with spaces: the C++ signature)
  const std::string named = " (" + file + ":" + std::to_string(line) + ") [debuginfo]";
  const std::string dumped = analyze({"dump", "-k", "ustack", r.path}).out;
  EXPECT_NE(dumped.find(named), std::string::npos) << dumped;
  EXPECT_NE(dumped.find(") [debuginfo] code="), std::string::npos) << "the word at [sp] is the named one: " << dumped;
  EXPECT_NE(dumped.find("(the caller: frame 1)"), std::string::npos) << dumped;
  auto raw = analyze({"dump", "-k", "ustack", "--no-symbolize", r.path});
  EXPECT_EQ(raw.out.find(named), std::string::npos);
  EXPECT_NE(raw.out.find(helper + "+0x"), std::string::npos) << raw.out;
  fs::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(Helper, CallSiteTest,
                         ::testing::Values(Case{"bind-tcp4-80", "CAP_NET_BIND_SERVICE", "bind_port"},
                                           Case{"chown", "CAP_CHOWN", "op_chown"}));

class CopiedHelper : public ::testing::Test {
 protected:
  ScratchDir scratch_{"capaudit-callsite"};
  const fs::path& dir_ = scratch_.path();
};

// A stripped copy: no function for the helper's own frame (main is in no
// .dynsym), so it is file+offset and the report says why; a --debuginfo root
// holding the unstripped file under its build ID brings the line back.
TEST_F(CopiedHelper, StrippedCopySaysSoAndDebuginfoRootRestoresIt) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string helper = fs::canonical(helper_path()).string();
  const std::string stripped = (dir_ / "helper-stripped").string();
  ASSERT_EQ(std::system(("strip -o '" + stripped + "' '" + helper + "'").c_str()), 0);
  auto r = record({}, {stripped, "bind-tcp4-80", low_port()}, "stripped");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;

  const Json j = Json::parse(analyze({"report", "-f", "json", r.path}).out, nullptr, false);
  const Json p = user_path(j, stripped, "CAP_NET_BIND_SERVICE");
  ASSERT_TRUE(p.is_object());
  const Json& site = p["frames"][p["call_site"].get<size_t>()];
  EXPECT_EQ(site["object"], stripped);
  EXPECT_NE(site["source"], "debuginfo");
  EXPECT_NE(site["source"], "symtab");
  EXPECT_NE(site["problem"].get<std::string>().find("stripped"), std::string::npos) << site.dump(2);
  auto text = analyze({"report", "--config", "none", "--width", "400", r.path});
  EXPECT_NE(text.out.find(stripped + "+0x"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("stripped"), std::string::npos) << text.out;

  const std::string id = readelf_build_id(helper);
  const fs::path debug = dir_ / "root" / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug");
  fs::create_directories(debug.parent_path());
  fs::copy_file(helper, debug);
  const Json k =
      Json::parse(analyze({"report", "-f", "json", "--debuginfo", (dir_ / "root").string(), r.path}).out, nullptr, false);
  const Json q = user_path(k, stripped, "CAP_NET_BIND_SERVICE");
  ASSERT_TRUE(q.is_object());
  const Json& s2 = q["frames"][q["call_site"].get<size_t>()];
  EXPECT_EQ(s2["source"], "debuginfo") << s2.dump(2);
  EXPECT_GT(s2["line"].get<uint32_t>(), 0u);
  fs::remove(r.path);
}

// The binary at the recorded path was replaced after recording: the
// analyzer refuses it and says why, never symbolizing with the wrong file.
TEST_F(CopiedHelper, ReplacedBinaryIsRefusedWithTheBuildIds) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string helper = fs::canonical(helper_path()).string();
  const std::string copy = (dir_ / "helper-copy").string();
  fs::copy_file(helper, copy);
  fs::permissions(copy, fs::perms::owner_all);
  auto r = record({}, {copy, "bind-tcp4-80", low_port()}, "replaced");
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message << r.run.err;
  // Another program now sits at the recorded path.
  const std::string other = fs::canonical(CAPAUDIT_RECORD_BIN).string();
  fs::copy_file(other, copy, fs::copy_options::overwrite_existing);

  const Json j = Json::parse(analyze({"report", "-f", "json", r.path}).out, nullptr, false);
  const Json p = user_path(j, copy, "CAP_NET_BIND_SERVICE");
  ASSERT_TRUE(p.is_object());
  const Json& site = p["frames"][p["call_site"].get<size_t>()];
  EXPECT_EQ(site["function"], "");
  EXPECT_EQ(site["source"], "none");
  const std::string want =
      "build ID mismatch: recorded " + readelf_build_id(helper) + ", file has " + readelf_build_id(other);
  EXPECT_NE(site["problem"].get<std::string>().find(want), std::string::npos) << site.dump(2);
  auto text = analyze({"report", "--config", "none", "--width", "1000", r.path});
  EXPECT_NE(text.out.find(want), std::string::npos) << text.out;
  fs::remove(r.path);
}

}  // namespace
}  // namespace capaudit::test
