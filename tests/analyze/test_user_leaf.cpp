// The word at the user stack pointer at syscall entry (UserStack::leaf,
// format 1.7), synthetic: the analysis takes it as frame 1 — the caller of a
// libc syscall wrapper, which a frame-pointer walk skips — only when it
// passes every test of a return address, and never makes a frame of a word
// a wrapper pushed. The real recording of the same is
// tests/record/e2e/test_call_sites.cpp.
#include <gtest/gtest.h>

#include <functional>

#include "analyze/core/classify.h"
#include "analyze/core/findings.h"
#include "analyze/core/render.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

const std::string kLibc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const std::string kProg = "/usr/sbin/prog";
const std::string kProgId = "00112233445566778899aabbccddeeff00112233";
constexpr uint64_t kCallRel32 = 0xfffe8b12'e8000000;  // e8 12 8b fe ff: call rel32 ending at the address

common::UserFrame frame(uint64_t ip, const std::string& path, uint64_t offset, const std::string& id = "") {
  return common::UserFrame{ip, id, path, offset, true};
}

// libc's bind, then main (the frame-pointer walk skipped the caller).
common::UserStack walked() {
  common::UserStack s;
  s.id = 1;
  s.frames = {frame(0x7f00'0011'2233, kLibc, 0x112233), frame(0x5555'0000'1400, kProg, 0x1400, kProgId)};
  return s;
}

common::UserLeaf leaf(uint64_t ip, uint64_t offset, uint64_t code = kCallRel32, bool has_code = true) {
  return common::UserLeaf{frame(ip, kProg, offset, kProgId), code, has_code};
}

TEST(UserLeaf, CallInstructionShapes) {
  EXPECT_TRUE(ends_with_call(kCallRel32));
  EXPECT_TRUE(ends_with_call(0x11223344'15ff0000));   // ff 15 disp32: call *x(%rip)
  EXPECT_TRUE(ends_with_call(0xd0ff0000'00000000));   // ff d0: call *%rax
  EXPECT_TRUE(ends_with_call(0xd3ff4100'00000000));   // 41 ff d3: call *%r11
  EXPECT_TRUE(ends_with_call(0x1050ff00'00000000));   // ff 50 10: call *0x10(%rax)
  EXPECT_TRUE(ends_with_call(0x13ff0000'00000000));   // ff 13: call *(%rbx)
  EXPECT_FALSE(ends_with_call(0));
  EXPECT_FALSE(ends_with_call(0xc35d0000'00000000));  // pop %rbp; ret
  EXPECT_FALSE(ends_with_call(0x00007ffd'12345678));  // a stack address's bytes
  EXPECT_FALSE(ends_with_call(0xe0ff0000'00000000));  // ff e0: jmp *%rax, not a call
  EXPECT_FALSE(ends_with_call(0x15ff0000'00000000));  // ff 15 without its disp32 before the address
}

TEST(UserLeaf, AReturnAddressIntoTheCallerBecomesFrameOne) {
  auto s = walked();
  s.leaf = leaf(0x5555'0000'1234, 0x1234);
  const auto v = user_frames_of(s);
  ASSERT_EQ(v.frames.size(), 3u);
  EXPECT_EQ(v.entry_sp, 1);
  EXPECT_EQ(v.frames[1].file_offset, 0x1234u);
  EXPECT_EQ(v.frames[1].build_id, kProgId);
  EXPECT_EQ(v.frames[2].file_offset, 0x1400u);
}

TEST(UserLeaf, TheWalksOwnFrameOneIsConfirmedNotRepeated) {
  auto s = walked();
  s.leaf = leaf(0x5555'0000'1400, 0x1400);
  const auto v = user_frames_of(s);
  EXPECT_EQ(v.frames, s.frames);
  EXPECT_EQ(v.entry_sp, 1);
}

// Words that are not a return address into the wrapper's caller: none makes a frame.
TEST(UserLeaf, AWordThatIsNoReturnAddressMakesNoFrame) {
  struct Case {
    const char* what;
    std::function<void(common::UserStack&)> make;
  };
  const Case cases[] = {
      {"no leaf read (format 1.6)", [](common::UserStack&) {}},
      {"a stack address the wrapper pushed (no executable file mapping)",
       [](common::UserStack& s) { s.leaf = common::UserLeaf{common::UserFrame{0x7ffd'1234'5678, "", "", 0, false}, 0, false}; }},
      {"a text address not after a call (a pushed function pointer)",
       [](common::UserStack& s) { s.leaf = leaf(0x5555'0000'1100, 0x1100, 0x8948'5300'0000'0000); }},
      {"code before it unreadable", [](common::UserStack& s) { s.leaf = leaf(0x5555'0000'1234, 0x1234, 0, false); }},
      {"an offset but no file", [](common::UserStack& s) {
         s.leaf = leaf(0x5555'0000'1234, 0x1234);
         s.leaf->word.path.clear();
         s.leaf->word.build_id.clear();
       }},
      {"frame 0 is the program's own (a syscall made inline: its [sp] is a local)",
       [](common::UserStack& s) {
         s.frames[0] = frame(0x5555'0000'1800, kProg, 0x1800, kProgId);
         s.leaf = leaf(0x5555'0000'1234, 0x1234);
       }},
      {"frame 0's file unknown", [](common::UserStack& s) {
         s.frames[0].path.clear();
         s.leaf = leaf(0x5555'0000'1234, 0x1234);
       }},
      {"the word is frame 0 itself", [](common::UserStack& s) {
         s.leaf = leaf(0x7f00'0011'2233, 0x112233);
       }},
  };
  for (const auto& c : cases) {
    auto s = walked();
    c.make(s);
    const auto v = user_frames_of(s);
    EXPECT_EQ(v.frames, s.frames) << c.what;
    EXPECT_EQ(v.entry_sp, -1) << c.what;
  }
}

// Through the whole analysis: the report's call site is the caller named by
// the leaf word, said "in"; with a garbage word it stays the walk's frame,
// said "reached from".
TEST(UserLeaf, ReportSaysInOnlyForTheCallerReadAtSp) {
  auto report_of = [](const common::UserStack& s) {
    TraceBuilder t = synth();
    t.exec(100, 1000, kProg);
    t.check(100, 2000, kCapNetBindService, true, kBind);
    t.checks.back().user_stack_id = s.id;
    t.user_stacks = {s};
    return classify({aggregate(t)});
  };
  auto path_of = [](const Report& r) -> const UserCallPath& {
    EXPECT_EQ(r.caps.size(), 1u);
    EXPECT_EQ(r.caps[0].user_paths.size(), 1u);
    return r.caps[0].user_paths[0];
  };
  TextOptions o;
  o.width = 400;

  auto good = walked();
  good.leaf = leaf(0x5555'0000'1234, 0x1234);
  const Report r = report_of(good);
  const UserCallPath& p = path_of(r);
  EXPECT_EQ(p.call_site, 1);
  EXPECT_EQ(p.wrapper, 0);
  EXPECT_TRUE(p.frames[1].from_entry_sp);
  EXPECT_EQ(*p.frames[1].offset, 0x1234u);
  std::string text = render_text(r, o);
  EXPECT_NE(text.find("call site: `bind` in `" + kProg + "+0x1234`"), std::string::npos) << text;
  EXPECT_NE(render_json(r).find("\"from_entry_sp\": true"), std::string::npos);

  auto garbage = walked();
  garbage.leaf = leaf(0x5555'0000'1100, 0x1100, 0x8948'5300'0000'0000);
  const Report g = report_of(garbage);
  const UserCallPath& q = path_of(g);
  ASSERT_EQ(q.frames.size(), 2u);
  EXPECT_EQ(q.call_site, 1);
  EXPECT_FALSE(q.frames[1].from_entry_sp);
  text = render_text(g, o);
  EXPECT_NE(text.find("call site: `bind` reached from `" + kProg + "+0x1400`"), std::string::npos) << text;
  EXPECT_EQ(text.find("0x1100"), std::string::npos) << text;
}

}  // namespace
}  // namespace capaudit::analyze::test
