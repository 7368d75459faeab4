// The offline symbolizer (analyze/symbolize) on real ELF files compiled at
// test time with the system's gcc and binutils: offsets come from the
// binaries' own symbol tables (nm) and program headers, never hard-coded.
#include <gtest/gtest.h>
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "analyze/core/render.h"
#include "analyze/symbolize/report.h"
#include "analyze/symbolize/symbolize.h"
#include "tests/support/scratch_dir.h"

namespace capaudit::analyze::symbolize {
namespace {

namespace fs = std::filesystem;

// Source lines are found by their markers, so editing the program keeps the test right.
const char* kProgram = R"(#include <stdio.h>
__attribute__((noinline)) int exported_work(int x) {  /* LINE_EXPORTED */
  volatile int y = x * 3;
  return y + 1;
}
static __attribute__((noinline)) int hidden_work(int x) {  /* LINE_HIDDEN */
  volatile int z = x - 1;
  return z * 2;
}
int main(int argc, char **argv) {
  (void)argv;
  return exported_work(argc) + hidden_work(argc);
}
)";

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}

int marker_line(const std::string& marker) {
  std::istringstream in(kProgram);
  std::string l;
  for (int n = 1; std::getline(in, l); ++n)
    if (l.find(marker) != std::string::npos) return n;
  return -1;
}

// The symbol's virtual address, from nm.
uint64_t symbol_vaddr(const std::string& binary, const std::string& name, bool dynamic = false) {
  std::istringstream in(run("nm " + std::string(dynamic ? "-D " : "") + "'" + binary + "'"));
  std::string line;
  while (std::getline(in, line)) {  // "ADDR TYPE NAME"; undefined symbols have no ADDR
    std::istringstream l(line);
    std::string addr, type, sym;
    if (l >> addr >> type >> sym && sym.substr(0, sym.find('@')) == name) return std::stoull(addr, nullptr, 16);
  }
  ADD_FAILURE() << name << " not in nm " << binary;
  return 0;
}

// The file offset of a virtual address, from the ELF program headers (read
// here with <elf.h>, independently of the code under test).
uint64_t file_offset(const std::string& binary, uint64_t vaddr) {
  std::ifstream f(binary, std::ios::binary);
  Elf64_Ehdr eh{};
  f.read(reinterpret_cast<char*>(&eh), sizeof eh);
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    f.seekg(static_cast<std::streamoff>(eh.e_phoff + i * eh.e_phentsize));
    f.read(reinterpret_cast<char*>(&ph), sizeof ph);
    if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
      return vaddr - ph.p_vaddr + ph.p_offset;
  }
  ADD_FAILURE() << "no segment holds " << vaddr;
  return 0;
}

std::string build_id_of(const std::string& binary) {
  auto r = read_build_id(binary);
  EXPECT_EQ(r.error, "");
  return r.build_id;
}

class SymbolizeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new capaudit::test::ScratchDir("capaudit-sym");
    dir_ = &scratch_->path();
    std::ofstream(*dir_ / "prog.c") << kProgram;
    // Relative source name, compiled in the directory: DWARF names "prog.c".
    const std::string cd = "cd '" + dir_->string() + "' && ";
    run(cd + "gcc -g -O1 -fno-omit-frame-pointer -rdynamic -Wl,--build-id=sha1 -o prog prog.c 2>&1");
    run(cd + "strip -o prog.stripped prog 2>&1");
    run(cd + "objcopy --only-keep-debug prog prog.debug 2>&1");
    // The same source, another build ID: the binary "replaced after recording".
    run(cd + "gcc -g -O1 -fno-omit-frame-pointer -rdynamic -Wl,--build-id=0x0123456789abcdef -o prog.other prog.c 2>&1");
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return (*dir_ / name).string(); }

  // A frame inside `function` of `binary`, as the recorder would give it.
  static common::UserFrame frame_in(const std::string& binary, const std::string& function, uint64_t into = 0) {
    common::UserFrame f;
    f.path = binary;
    f.build_id = build_id_of(binary);
    f.file_offset = file_offset(path("prog"), symbol_vaddr(path("prog"), function) + into);
    f.has_offset = true;
    f.ip = 0x7f0000000000 + f.file_offset;
    return f;
  }
  static Options isolated() {
    Options o;
    o.system_debuginfo = false;  // the host's /usr/lib/debug must not decide a test
    return o;
  }
  static capaudit::test::ScratchDir* scratch_;
  static const fs::path* dir_;
};
capaudit::test::ScratchDir* SymbolizeTest::scratch_ = nullptr;
const fs::path* SymbolizeTest::dir_ = nullptr;

TEST_F(SymbolizeTest, WithDebugInfoGivesFunctionAndSourceLine) {
  Symbolizer s(isolated());
  auto r = s.symbolize(frame_in(path("prog"), "exported_work"), false);
  EXPECT_EQ(r.source, SymbolSource::debuginfo) << r.problem;
  EXPECT_EQ(r.function, "exported_work");
  EXPECT_EQ(r.file, "prog.c");
  EXPECT_EQ(r.line, static_cast<uint32_t>(marker_line("LINE_EXPORTED")));
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.object, path("prog"));

  auto h = s.symbolize(frame_in(path("prog"), "hidden_work"), false);
  EXPECT_EQ(h.function, "hidden_work");
  EXPECT_EQ(h.line, static_cast<uint32_t>(marker_line("LINE_HIDDEN")));
}

TEST_F(SymbolizeTest, ReturnAddressLooksUpTheCallNotTheNextInstruction) {
  // The byte right after exported_work's last byte is not in it; as a return
  // address it names the call inside it.
  const uint64_t start = symbol_vaddr(path("prog"), "exported_work");
  std::istringstream in(run("nm -S '" + path("prog") + "'"));
  std::string line;
  uint64_t len = 0;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string a, size, t, n;
    if (l >> a >> size >> t >> n && n == "exported_work") len = std::stoull(size, nullptr, 16);
  }
  ASSERT_GT(len, 0u);
  common::UserFrame f = frame_in(path("prog"), "exported_work");
  f.file_offset = file_offset(path("prog"), start + len);
  Symbolizer s(isolated());
  EXPECT_EQ(s.symbolize(f, true).function, "exported_work");
  EXPECT_NE(s.symbolize(f, false).function, "exported_work");
}

TEST_F(SymbolizeTest, StrippedCopyNamesExportedFunctionsFromDynsymAndSaysSo) {
  Symbolizer s(isolated());
  auto r = s.symbolize(frame_in(path("prog.stripped"), "exported_work"), false);
  EXPECT_EQ(r.source, SymbolSource::dynsym);
  EXPECT_EQ(r.function, "exported_work");
  EXPECT_EQ(r.line, 0u);
  EXPECT_NE(r.problem.find("stripped"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find(".dynsym"), std::string::npos) << r.problem;

  // A static function is in no dynamic symbol: unsymbolized, never the
  // exported neighbour's name.
  auto f = frame_in(path("prog.stripped"), "hidden_work");
  auto h = s.symbolize(f, false);
  EXPECT_EQ(h.source, SymbolSource::none);
  EXPECT_EQ(h.function, "");
  EXPECT_NE(h.problem.find("no symbol covers"), std::string::npos) << h.problem;
  char want[64];
  std::snprintf(want, sizeof want, "+0x%llx", static_cast<unsigned long long>(f.file_offset));
  EXPECT_EQ(unsymbolized_text(f), path("prog.stripped") + want);
}

TEST_F(SymbolizeTest, DebugFileByBuildIdUnderADebuginfoRoot) {
  const std::string id = build_id_of(path("prog"));
  const fs::path root = *dir_ / "dbgroot";
  fs::create_directories(root / ".build-id" / id.substr(0, 2));
  fs::copy_file(path("prog.debug"), root / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug"),
                fs::copy_options::overwrite_existing);
  Options o = isolated();
  o.debuginfo_dirs = {root.string()};
  Symbolizer s(o);
  auto r = s.symbolize(frame_in(path("prog.stripped"), "hidden_work"), false);
  EXPECT_EQ(r.source, SymbolSource::debuginfo) << r.problem;
  EXPECT_EQ(r.function, "hidden_work");
  EXPECT_EQ(r.line, static_cast<uint32_t>(marker_line("LINE_HIDDEN")));
  EXPECT_EQ(r.debug_file, (root / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug")).string());
}

TEST_F(SymbolizeTest, ReplacedBinaryIsRefusedWithTheReason) {
  // Recorded from prog; prog.other (another build ID) now sits at the path.
  common::UserFrame f = frame_in(path("prog"), "exported_work");
  const std::string recorded = f.build_id;
  f.path = path("prog.other");
  Symbolizer s(isolated());
  auto r = s.symbolize(f, false);
  EXPECT_EQ(r.source, SymbolSource::none);
  EXPECT_EQ(r.function, "");
  EXPECT_EQ(r.object, "");
  EXPECT_NE(r.problem.find("build ID mismatch: recorded " + recorded + ", file has 0123456789abcdef"), std::string::npos)
      << r.problem;

  // A debug file of the wrong build ID under the recorded ID's name is refused too.
  const fs::path root = *dir_ / "wrongroot";
  fs::create_directories(root / ".build-id" / recorded.substr(0, 2));
  fs::copy_file(path("prog.other"), root / ".build-id" / recorded.substr(0, 2) / (recorded.substr(2) + ".debug"),
                fs::copy_options::overwrite_existing);
  Options o = isolated();
  o.debuginfo_dirs = {root.string()};
  Symbolizer s2(o);
  f.path = path("prog.stripped");  // the right binary, stripped: the wrong debug file must not be used
  auto d = s2.symbolize(f, false);
  EXPECT_EQ(d.debug_file, "");
  EXPECT_EQ(d.source, SymbolSource::dynsym);
  EXPECT_NE(d.problem.find("build ID mismatch"), std::string::npos) << d.problem;
}

TEST_F(SymbolizeTest, KernelPaddedShortBuildIdMatches) {
  EXPECT_TRUE(build_id_matches("0123456789abcdef000000000000000000000000", "0123456789abcdef"));
  EXPECT_FALSE(build_id_matches("0123456789abcdef000000000000000000000001", "0123456789abcdef"));
  EXPECT_FALSE(build_id_matches("", ""));
  common::UserFrame f = frame_in(path("prog.other"), "exported_work");
  ASSERT_EQ(f.build_id, "0123456789abcdef");
  f.build_id += std::string(24, '0');
  Symbolizer s(isolated());
  EXPECT_EQ(s.symbolize(f, false).function, "exported_work");
}

TEST_F(SymbolizeTest, NoRecordedBuildIdIsUsedButSaidUnverified) {
  common::UserFrame f = frame_in(path("prog"), "exported_work");
  f.build_id.clear();
  Symbolizer s(isolated());
  auto r = s.symbolize(f, false);
  EXPECT_EQ(r.function, "exported_work");
  EXPECT_NE(r.problem.find("unverified"), std::string::npos) << r.problem;
}

TEST_F(SymbolizeTest, NonFilesAndMissingOffsetsAreProblemsNotCrashes) {
  Symbolizer s(isolated());
  common::UserFrame f = frame_in(path("prog"), "exported_work");
  f.path = "/dev/zero";
  EXPECT_NE(s.symbolize(f).problem.find("not a regular file"), std::string::npos);
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  f.path = fifo;  // must not block
  EXPECT_NE(s.symbolize(f).problem.find("not a regular file"), std::string::npos);
  f.path = path("nonexistent");
  EXPECT_NE(s.symbolize(f).problem.find("not found"), std::string::npos);
  f.path = path("prog");
  f.has_offset = false;
  EXPECT_EQ(s.symbolize(f).source, SymbolSource::none);
  char ip[32];
  std::snprintf(ip, sizeof ip, "0x%llx", static_cast<unsigned long long>(f.ip));
  EXPECT_EQ(unsymbolized_text(f), ip);
  f.has_offset = true;
  f.file_offset = 1ull << 40;  // beyond every segment
  EXPECT_NE(s.symbolize(f).problem.find("no loadable segment"), std::string::npos);
}

TEST_F(SymbolizeTest, DamagedElfGivesACleanProblem) {
  const common::UserFrame good = frame_in(path("prog"), "exported_work");
  std::ifstream in(path("prog"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});

  auto write = [&](const std::string& name, const std::string& b) {
    std::ofstream(path(name), std::ios::binary | std::ios::trunc) << b;
    return path(name);
  };
  // Truncated in the ELF header, and cut off in the middle.
  for (size_t len : {size_t{10}, size_t{100}, bytes.size() / 2}) {
    Symbolizer s(isolated());
    common::UserFrame f = good;
    f.path = write("cut" + std::to_string(len), bytes.substr(0, len));
    auto r = s.symbolize(f, false);
    EXPECT_NE(r.problem, "") << len;
    if (len < 1000) {
      EXPECT_EQ(r.source, SymbolSource::none);
    }
  }
  // Program and section header offsets pointing far outside the file.
  {
    std::string b = bytes;
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(b.data());
    eh->e_phoff = 0xfffffffffff0ull;
    eh->e_shoff = 0xfffffffffff0ull;
    Symbolizer s(isolated());
    common::UserFrame f = good;
    f.path = write("badhdr", b);
    auto r = s.symbolize(f, false);
    EXPECT_EQ(r.source, SymbolSource::none);
    EXPECT_NE(r.problem, "");
  }
  // Random damage everywhere, build ID check disabled by recording none: the
  // damaged file gets all the way into libdw. It must never crash; whatever
  // comes back is a result or a problem string.
  std::mt19937 rng(18);
  for (int round = 0; round < 200; ++round) {
    std::string b = bytes;
    for (int k = 0; k < 16; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    Symbolizer s(isolated());
    common::UserFrame f = good;
    f.build_id.clear();
    f.path = write("damaged", b);
    auto r = s.symbolize(f, false);
    EXPECT_TRUE(r.source != SymbolSource::none || !r.problem.empty()) << round;
    (void)s.symbolize(f, true);
  }
}

// A finding's user path through libc's bind() into the program: the call site
// is the program's frame, libc's function is the wrapper, and the text names
// both with the source line.
TEST_F(SymbolizeTest, ReportNamesTheProgramsCallSiteAndTheWrapper) {
  const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  if (!fs::exists(libc)) GTEST_SKIP() << "no " << libc;
  UserFrameInfo wrapper;
  wrapper.object = libc;
  wrapper.build_id = build_id_of(libc);
  wrapper.offset = file_offset(libc, symbol_vaddr(libc, "bind", true)) + 8;
  wrapper.ip = 0x7f1000000000;
  const common::UserFrame site_frame = frame_in(path("prog"), "exported_work", 1);  // a return address: looked up 1 byte before, the first instruction
  UserFrameInfo site;
  site.object = site_frame.path;
  site.build_id = site_frame.build_id;
  site.offset = site_frame.file_offset;
  UserFrameInfo caller = site;
  caller.offset = frame_in(path("prog"), "main", 8).file_offset;

  CapFinding f;
  f.cap = 10;
  f.name = "CAP_NET_BIND_SERVICE";
  f.executables = {ExecutableName{path("prog"), {}, false}};
  UserCallPath up;
  up.syscall = "bind";
  up.checks = 1;
  up.frames = {wrapper, site, caller};
  choose_call_site(up, f.executables);
  EXPECT_EQ(up.call_site, 1);
  EXPECT_EQ(up.wrapper, 0);
  f.user_paths.push_back(up);
  Report r;
  r.caps.push_back(f);
  r.executables.push_back({});
  r.executables.back().path = path("prog");
  r.executables.back().caps.push_back(f);

  Symbolizer s(isolated());
  auto stats = symbolize_report(r, s);
  EXPECT_EQ(stats.frames, 3u);
  EXPECT_EQ(stats.debuginfo, 2u);
  const auto& frames = r.caps[0].user_paths[0].frames;
  EXPECT_EQ(frames[0].function, "bind") << frames[0].problem;
  EXPECT_EQ(frames[1].function, "exported_work");
  EXPECT_EQ(frames[1].source, "debuginfo");
  EXPECT_EQ(frames[2].function, "main");

  TextOptions t;
  t.full = true;
  t.width = 400;
  const std::string text = render_text(r, t);
  EXPECT_NE(text.find("call site: `bind` reached from `exported_work` (prog.c:" + std::to_string(marker_line("LINE_EXPORTED")) + ")"),
            std::string::npos)
      << text;
  const std::string json = render_json(r);
  EXPECT_NE(json.find("\"source\": \"debuginfo\""), std::string::npos);
  EXPECT_NE(json.find("\"build_id\": \"" + site.build_id + "\""), std::string::npos);
}

// Unsymbolized (--no-symbolize, or nothing found): the text shows file+offset.
TEST_F(SymbolizeTest, UnsymbolizedCallSiteIsFilePlusOffset) {
  CapFinding f;
  f.name = "CAP_CHOWN";
  f.executables = {ExecutableName{"/usr/bin/gone", {}, false}};
  UserCallPath up;
  up.syscall = "fchownat";
  up.frames.resize(2);
  up.frames[0].object = "/lib/x86_64-linux-gnu/libc.so.6";
  up.frames[0].offset = 0x10;
  up.frames[1].object = "/usr/bin/gone";
  up.frames[1].offset = 0x1234;
  choose_call_site(up, f.executables);
  f.user_paths.push_back(up);
  Report r;
  r.caps.push_back(f);
  r.executables.push_back({});
  r.executables.back().path = "/usr/bin/gone";
  r.executables.back().caps.push_back(f);
  TextOptions t;
  t.width = 400;
  EXPECT_NE(render_text(r, t).find("call site: `fchownat` reached from `/usr/bin/gone+0x1234`"), std::string::npos)
      << render_text(r, t);
}

// A program without frame pointers (/usr/bin/chown): the walk holds only
// libc frames. The wrapper is the call site, and the line says the caller is
// missing rather than "`fchownat` in `fchownat`".
TEST_F(SymbolizeTest, OnlyLibraryFramesSayTheCallerWasNotWalked) {
  CapFinding f;
  f.name = "CAP_CHOWN";
  f.executables = {ExecutableName{"/usr/bin/chown", {}, false}};
  UserCallPath up;
  up.syscall = "fchownat";
  up.frames.resize(2);
  up.frames[0].object = "/lib/x86_64-linux-gnu/libc.so.6";
  up.frames[0].offset = 0x10;
  up.frames[0].function = "fchownat";
  up.frames[1].object = "/lib/x86_64-linux-gnu/libc.so.6";
  up.frames[1].offset = 0x2724a;
  choose_call_site(up, f.executables);
  EXPECT_TRUE(up.caller_not_walked);
  EXPECT_EQ(up.call_site, 0);
  f.user_paths.push_back(up);
  Report r;
  r.caps.push_back(f);
  r.executables.push_back({});
  r.executables.back().path = "/usr/bin/chown";
  r.executables.back().caps.push_back(f);
  TextOptions t;
  t.width = 400;
  const std::string text = render_text(r, t);
  EXPECT_NE(text.find("call site: `fchownat` (no debuginfo: no line); its caller was not walked"), std::string::npos) << text;
  EXPECT_EQ(text.find("`fchownat` in `fchownat`"), std::string::npos) << text;
}

}  // namespace
}  // namespace capaudit::analyze::symbolize
