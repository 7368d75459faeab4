// User-space stacks on the recorder side (format 1.6): the ring-buffer
// record, /proc/PID/maps, build IDs read from ELF files, and the naming of
// each frame by the kernel or, failing that, by the process's mappings.
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "bpf/capaudit.h"
#include "record/drain/event_decode.h"
#include "record/drain/user_stacks.h"

namespace capaudit::record {
namespace {

std::vector<uint64_t> aligned_copy(const capaudit_cap_event& e, size_t size) {
  std::vector<uint64_t> out((sizeof(e) + 7) / 8);
  std::memcpy(out.data(), &e, size);
  return out;
}

TEST(UserStackDecode, BothWalksComeThrough) {
  auto e = std::make_unique<capaudit_cap_event>();
  *e = {};
  e->hdr = {CAPAUDIT_EV_CAP, 100, 101, sizeof(*e), 5555};
  e->cap = 10;
  e->flags = CAPAUDIT_CAP_GRANTED | CAPAUDIT_CAP_HAS_USTACK;
  e->ustack.ip_bytes = 2 * 8;
  e->ustack.ip[0] = 0x7f0000001234;
  e->ustack.ip[1] = 0x555500002000;
  e->ustack.id_bytes = 2 * 32;
  e->ustack.id[0].status = CAPAUDIT_STACK_BUILD_ID_IP;
  e->ustack.id[0].offset_or_ip = 0x7f0000001234;
  e->ustack.id[1].status = CAPAUDIT_STACK_BUILD_ID_VALID;
  for (int i = 0; i < CAPAUDIT_BUILD_ID_SIZE; ++i) e->ustack.id[1].build_id[i] = static_cast<uint8_t>(i);
  e->ustack.id[1].offset_or_ip = 0x2000;
  auto bytes = aligned_copy(*e, sizeof(*e));
  auto d = decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), sizeof(*e)});
  ASSERT_TRUE(d);
  const auto& c = std::get<DecodedCheck>(*d);
  ASSERT_TRUE(c.user_stack);
  EXPECT_EQ(c.user_stack->ips, (std::vector<uint64_t>{0x7f0000001234, 0x555500002000}));
  ASSERT_EQ(c.user_stack->named.size(), 2u);
  EXPECT_EQ(c.user_stack->named[0].status, KernelNamedFrame::Status::ip);
  EXPECT_EQ(c.user_stack->named[1].status, KernelNamedFrame::Status::valid);
  EXPECT_EQ(c.user_stack->named[1].build_id[19], 19);
  EXPECT_EQ(c.user_stack->named[1].offset_or_ip, 0x2000u);

  // A walk the helper refused keeps its error; the other still counts.
  e->ustack.ip_bytes = -14;
  bytes = aligned_copy(*e, sizeof(*e));
  d = decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), sizeof(*e)});
  ASSERT_TRUE(d);
  EXPECT_EQ(std::get<DecodedCheck>(*d).user_stack->ips_error, -14);
  EXPECT_TRUE(std::get<DecodedCheck>(*d).user_stack->ips.empty());

  // More frames than the array holds, or a record cut before the stack: damage.
  e->ustack.ip_bytes = (CAPAUDIT_MAX_USTACK_DEPTH + 1) * 8;
  bytes = aligned_copy(*e, sizeof(*e));
  EXPECT_FALSE(decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), sizeof(*e)}));
  e->ustack.ip_bytes = 8;
  const size_t cut = offsetof(capaudit_cap_event, ustack);
  e->hdr.size = cut;
  bytes = aligned_copy(*e, cut);
  EXPECT_FALSE(decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), cut}));
  // Without the flag the same short record is a plain sampled check.
  e->flags = CAPAUDIT_CAP_GRANTED;
  bytes = aligned_copy(*e, cut);
  d = decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), cut});
  ASSERT_TRUE(d);
  EXPECT_FALSE(std::get<DecodedCheck>(*d).user_stack);
}

TEST(UserStackMaps, FileBackedMappingsOnly) {
  std::istringstream in(
      "555500000000-555500001000 r--p 00000000 fd:01 1234                       /usr/bin/prog\n"
      "555500001000-555500003000 r-xp 00001000 fd:01 1234                       /usr/bin/prog\n"
      "555500010000-555500031000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f0000000000-7f0000100000 r-xp 00026000 fd:01 99                         /opt/my lib/libx.so (deleted)\n"
      "7f0000200000-7f0000201000 rw-p 00000000 00:00 0 \n"
      "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]\n"
      "garbage\n");
  const auto maps = parse_maps(in);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[1].start, 0x555500001000u);
  EXPECT_EQ(maps[1].end, 0x555500003000u);
  EXPECT_EQ(maps[1].pgoff, 0x1000u);
  EXPECT_EQ(maps[1].dev, makedev(0xfd, 1));
  EXPECT_EQ(maps[1].inode, 1234u);
  EXPECT_TRUE(maps[1].executable);
  EXPECT_FALSE(maps[0].executable);
  EXPECT_EQ(maps[2].path, "/opt/my lib/libx.so");
  EXPECT_TRUE(maps[2].deleted);
}

// The test program's own build ID, as binutils reads it.
std::string readelf_build_id(const std::string& path) {
  std::string cmd = "readelf -n '" + path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return {};
  char line[512];
  while (fgets(line, sizeof(line), p.get())) {
    const char* at = std::strstr(line, "Build ID: ");
    if (!at) continue;
    std::string id(at + 10);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    return id;
  }
  return {};
}

TEST(UserStackBuildId, ReadFromTheFileAsReadelfDoes) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(n, 0);
  self[n] = 0;
  const std::string expected = readelf_build_id(self);
  if (expected.empty()) GTEST_SKIP() << "readelf found no build ID in " << self;
  int fd = open(self, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_build_id(fd), expected);
  close(fd);
  // Not an ELF file: no build ID, no error.
  fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_build_id(fd), "");
  close(fd);
}

// The production lookup against this very process: an address of this
// function lies in this executable's text, at the file offset the mapping
// gives, with the build ID readelf reads.
TEST(UserStackBuildId, ProcFilesNameALiveAddress) {
  ProcFiles files;
  auto maps = files.maps(static_cast<uint32_t>(getpid()));
  ASSERT_TRUE(maps);
  const uint64_t ip = reinterpret_cast<uint64_t>(&readelf_build_id);
  const Mapping* m = nullptr;
  for (const auto& x : *maps)
    if (ip >= x.start && ip < x.end) m = &x;
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->executable);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(m->path, std::string(self, static_cast<size_t>(n)));
  EXPECT_EQ(files.build_id(static_cast<uint32_t>(getpid()), *m), readelf_build_id(m->path));
}

// A fake /proc: fixed mappings and build IDs per (pid, inode).
struct FakeFiles : ProcessFiles {
  std::map<uint32_t, std::vector<Mapping>> by_pid;
  std::map<uint64_t, std::string> ids;  // inode -> build ID
  int maps_reads = 0;
  std::optional<std::vector<Mapping>> maps(uint32_t pid) override {
    ++maps_reads;
    auto it = by_pid.find(pid);
    if (it == by_pid.end()) return std::nullopt;
    return it->second;
  }
  std::string build_id(uint32_t, const Mapping& m) override {
    auto it = ids.find(m.inode);
    return it == ids.end() ? "" : it->second;
  }
};

Mapping mapping(uint64_t start, uint64_t end, uint64_t pgoff, uint64_t inode, std::string path) {
  Mapping m;
  m.start = start;
  m.end = end;
  m.pgoff = pgoff;
  m.inode = inode;
  m.path = std::move(path);
  m.executable = true;
  return m;
}

KernelNamedFrame valid(uint8_t first, uint64_t offset) {
  KernelNamedFrame k;
  k.status = KernelNamedFrame::Status::valid;
  k.build_id.fill(0xab);
  k.build_id[0] = first;
  k.offset_or_ip = offset;
  return k;
}
KernelNamedFrame ip_only(uint64_t ip) {
  KernelNamedFrame k;
  k.status = KernelNamedFrame::Status::ip;
  k.offset_or_ip = ip;
  return k;
}

TEST(UserStackResolve, TheKernelNamesFirstTheMapsFillIn) {
  FakeFiles files;
  files.by_pid[7] = {mapping(0x555500001000, 0x555500003000, 0x1000, 11, "/usr/bin/prog"),
                     mapping(0x7f0000000000, 0x7f0000100000, 0x26000, 22, "/lib/libc.so.6")};
  files.ids[22] = "c0ffee";
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x7f0000000010, 0x555500001234, 0x7ffd00000010};
  raw.named = {ip_only(0x7f0000000010), valid(0x01, 0x1234), ip_only(0x7ffd00000010)};
  const auto frames = r.resolve(7, raw);
  ASSERT_EQ(frames.size(), 3u);
  // libc: the kernel gave only the address; the maps give file, offset and build ID
  EXPECT_EQ(frames[0].ip, 0x7f0000000010u);
  EXPECT_EQ(frames[0].path, "/lib/libc.so.6");
  EXPECT_EQ(frames[0].file_offset, 0x26010u);
  EXPECT_TRUE(frames[0].has_offset);
  EXPECT_EQ(frames[0].build_id, "c0ffee");
  // the program: the kernel's build ID and offset, the path from the maps
  std::string kernel_id = "01";
  for (int i = 0; i < 19; ++i) kernel_id += "ab";
  EXPECT_EQ(frames[1].build_id, kernel_id);
  EXPECT_EQ(frames[1].file_offset, 0x1234u);
  EXPECT_EQ(frames[1].path, "/usr/bin/prog");
  EXPECT_EQ(frames[1].ip, 0x555500001234u);
  // outside every file mapping ([vdso], JIT code): the address alone
  EXPECT_EQ(frames[2], (common::UserFrame{0x7ffd00000010, "", "", 0, false}));
  EXPECT_EQ(r.stats().by_kernel, 1u);
  EXPECT_EQ(r.stats().by_maps, 1u);
  EXPECT_EQ(r.stats().address_only, 1u);
}

TEST(UserStackResolve, APathOnlyWhereTheMappingAgreesWithTheKernel) {
  FakeFiles files;
  // mapped somewhere else now (the process exec'd before the recorder looked)
  files.by_pid[7] = {mapping(0x555500001000, 0x555500003000, 0x0, 11, "/usr/bin/other")};
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x555500001234};
  raw.named = {valid(0x01, 0x1234)};
  const auto frames = r.resolve(7, raw);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].has_offset);
  EXPECT_EQ(frames[0].file_offset, 0x1234u);
  EXPECT_EQ(frames[0].path, "") << "the maps say offset 0x234, the kernel 0x1234: no path is claimed";
}

TEST(UserStackResolve, AProcessGoneKeepsWhatTheKernelGave) {
  FakeFiles files;  // no maps for anyone
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x10, 0x20};
  raw.named = {valid(0x02, 0x500), ip_only(0x20)};
  const auto frames = r.resolve(9, raw);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].has_offset);
  EXPECT_EQ(frames[0].build_id.substr(0, 2), "02");
  EXPECT_EQ(frames[0].path, "");
  EXPECT_EQ(frames[1], (common::UserFrame{0x20, "", "", 0, false}));
}

// Recorded from /usr/bin/chown (no frame pointers): the kernel said "valid"
// with offset 0xffffaa11a4b0d0e8 for a garbage return address below the
// mapping (find_vma finds the next mapping up). Such a frame is an address.
TEST(UserStackResolve, AnOffsetThatWrappedBelowTheMappingIsNotAName) {
  FakeFiles files;  // maps unreadable (a root target after the recorder dropped its capabilities)
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x10, 0x555500001234};
  raw.named = {valid(0x03, 0xffffaa11a4b0d0e8), valid(0x03, 0x1234)};
  const auto frames = r.resolve(9, raw);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], (common::UserFrame{0x10, "", "", 0, false}));
  EXPECT_TRUE(frames[1].has_offset);
  EXPECT_EQ(frames[1].file_offset, 0x1234u);
  EXPECT_EQ(r.stats().address_only, 1u);
  EXPECT_EQ(r.stats().by_kernel, 1u);
}

TEST(UserStackResolve, WalksThatDisagreeAreNotZipped) {
  FakeFiles files;
  files.by_pid[7] = {mapping(0x1000, 0x9000, 0, 11, "/bin/p")};
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x1100, 0x1200, 0x1300};       // three frames
  raw.named = {valid(0x03, 0x100), ip_only(0x1250)};  // the stack changed in between: two
  const auto frames = r.resolve(7, raw);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].ip, 0u) << "no raw address is paired with the kernel's frame";
  EXPECT_EQ(frames[0].file_offset, 0x100u);
  EXPECT_EQ(frames[1].ip, 0x1250u);
  EXPECT_EQ(frames[1].path, "/bin/p");
  EXPECT_EQ(frames[1].file_offset, 0x250u);
}

TEST(UserStackResolve, OnlyTheRawWalk) {
  FakeFiles files;
  files.by_pid[7] = {mapping(0x1000, 0x9000, 0x4000, 11, "/bin/p")};
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x1100};
  raw.named_error = -14;
  const auto frames = r.resolve(7, raw);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].path, "/bin/p");
  EXPECT_EQ(frames[0].file_offset, 0x4100u);
}

TEST(UserStackResolve, TheKernelsZeroPaddedIdGivesWayToTheFilesOwn) {
  FakeFiles files;
  files.by_pid[7] = {mapping(0x1000, 0x9000, 0, 11, "/bin/go-prog")};
  files.ids[11] = "0102030405060708090a0b0c0d0e0f10";  // 16 bytes (md5-style)
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x1100};
  KernelNamedFrame k;
  k.status = KernelNamedFrame::Status::valid;
  for (int i = 0; i < 16; ++i) k.build_id[i] = static_cast<uint8_t>(i + 1);
  k.offset_or_ip = 0x100;
  raw.named = {k};
  EXPECT_EQ(r.resolve(7, raw)[0].build_id, "0102030405060708090a0b0c0d0e0f10");
}

TEST(UserStackResolve, MapsAreCachedUntilForgottenOrMissed) {
  FakeFiles files;
  files.by_pid[7] = {mapping(0x1000, 0x2000, 0, 11, "/bin/p")};
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x1100};
  r.resolve(7, raw);
  r.resolve(7, raw);
  EXPECT_EQ(files.maps_reads, 1);
  raw.ips = {0x5000};  // mapped since: read again
  files.by_pid[7].push_back(mapping(0x5000, 0x6000, 0, 12, "/lib/new.so"));
  EXPECT_EQ(r.resolve(7, raw)[0].path, "/lib/new.so");
  EXPECT_EQ(files.maps_reads, 2);
  r.forget(7);  // exec: a new image
  files.by_pid[7] = {mapping(0x1000, 0x2000, 0, 13, "/bin/q")};
  raw.ips = {0x1100};
  EXPECT_EQ(r.resolve(7, raw)[0].path, "/bin/q");
}

TEST(UserStackResolve, AWalkEndingOnAZeroAddressDropsThatFrame) {
  FakeFiles files;
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x1100, 0x0};
  raw.named = {ip_only(0x1100), ip_only(0x0)};
  const auto frames = r.resolve(7, raw);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].ip, 0x1100u);
}

TEST(UserStackResolve, AGoneProcessesFramesBorrowAPathSeenWithTheSameBuildId) {
  FakeFiles files;
  UserStackResolver r(files);
  std::string id = "02";
  for (int i = 0; i < 19; ++i) id += "ab";
  r.note_file(id, "/usr/bin/prog");            // its exec
  r.note_file("ffff", "/usr/bin/other");       // another file
  RawUserStack raw;
  raw.ips = {0x10, 0x20};
  raw.named = {valid(0x02, 0x500), valid(0x03, 0x600)};
  const auto frames = r.resolve(9, raw);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].path, "/usr/bin/prog");
  EXPECT_EQ(frames[1].path, "") << "no file was seen with that build ID";
}

TEST(UserStackTable, SameFramesSameId) {
  UserStackTable t;
  std::vector<common::UserFrame> a = {{0x10, "ab", "/bin/p", 0x10, true}};
  std::vector<common::UserFrame> b = {{0x10, "ab", "/bin/q", 0x10, true}};
  bool fresh = false;
  EXPECT_EQ(t.intern(a, &fresh), 1u);
  EXPECT_TRUE(fresh);
  EXPECT_EQ(t.intern(b, &fresh), 2u);
  EXPECT_TRUE(fresh);
  EXPECT_EQ(t.intern(a, &fresh), 1u);
  EXPECT_FALSE(fresh);
}

// Format 1.7: the word at [sp] at syscall entry comes through the record...
TEST(UserStackDecode, TheLeafWordComesThrough) {
  auto e = std::make_unique<capaudit_cap_event>();
  *e = {};
  e->hdr = {CAPAUDIT_EV_CAP, 100, 101, sizeof(*e), 5555};
  e->flags = CAPAUDIT_CAP_GRANTED | CAPAUDIT_CAP_HAS_USTACK;
  e->ustack.ip_bytes = 8;
  e->ustack.ip[0] = 0x7f0000001234;
  e->ustack.id_bytes = -14;
  e->ustack.leaf_word = 0x555500001300;
  e->ustack.leaf_code = 0xfffe8b12e8000000;
  e->ustack.leaf_vm_start = 0x555500001000;
  e->ustack.leaf_vm_end = 0x555500003000;
  e->ustack.leaf_vm_pgoff = 0x1000;
  e->ustack.leaf_flags = CAPAUDIT_LEAF_READ | CAPAUDIT_LEAF_CODE | CAPAUDIT_LEAF_VMA | CAPAUDIT_LEAF_VMA_EXEC |
                         CAPAUDIT_LEAF_VMA_FILE;
  auto bytes = aligned_copy(*e, sizeof(*e));
  auto d = decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), sizeof(*e)});
  ASSERT_TRUE(d);
  const auto& u = *std::get<DecodedCheck>(*d).user_stack;
  ASSERT_TRUE(u.leaf);
  EXPECT_EQ(u.leaf->word, 0x555500001300u);
  EXPECT_EQ(u.leaf->code, 0xfffe8b12e8000000u);
  ASSERT_TRUE(u.leaf->vma);
  EXPECT_EQ(u.leaf->vma->start, 0x555500001000u);
  EXPECT_TRUE(u.leaf->vma->exec && u.leaf->vma->file);

  e->ustack.leaf_flags = 0;  // not read: no leaf at all
  bytes = aligned_copy(*e, sizeof(*e));
  d = decode_event({reinterpret_cast<const uint8_t*>(bytes.data()), sizeof(*e)});
  EXPECT_FALSE(std::get<DecodedCheck>(*d).user_stack->leaf);
}

// ... and is named like a frame only inside an executable file mapping: by
// the kernel's mapping and a frame of the same mapping (a root target's maps
// are unreadable after the recorder dropped its capabilities), else by the
// maps; kept as a bare word otherwise.
TEST(UserStackResolve, TheLeafWordIsNamedOnlyInAnExecutableFileMapping) {
  FakeFiles files;  // no maps: a root target
  UserStackResolver r(files);
  RawUserStack raw;
  raw.ips = {0x7f0000000010, 0x555500001400};
  raw.named = {ip_only(0x7f0000000010), valid(0x01, 0x1400)};
  const auto frames = r.resolve(7, raw);
  RawLeaf leaf;
  leaf.word = 0x555500001300;
  leaf.code = 0xfffe8b12e8000000;
  leaf.vma = RawLeaf::Vma{0x555500001000, 0x555500003000, 0x1000, true, true};
  raw.leaf = leaf;
  auto w = r.resolve_leaf(7, raw, frames);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->word.ip, 0x555500001300u);
  EXPECT_TRUE(w->word.has_offset);
  EXPECT_EQ(w->word.file_offset, 0x1300u);
  EXPECT_EQ(w->word.build_id, frames[1].build_id) << "the walked frame in the same mapping names the file";
  EXPECT_TRUE(w->has_code);
  EXPECT_EQ(w->code_before, 0xfffe8b12e8000000u);

  // in a writable data mapping, or anonymous memory (a pushed pointer): a bare word
  for (auto [exec, file] : {std::pair{false, true}, std::pair{true, false}}) {
    raw.leaf->vma = RawLeaf::Vma{0x555500001000, 0x555500003000, 0x1000, exec, file};
    w = r.resolve_leaf(7, raw, frames);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->word, (common::UserFrame{0x555500001300, "", "", 0, false}));
  }
  // no mapping from the kernel (-EBUSY under the mmap lock): the maps, when readable
  raw.leaf->vma.reset();
  raw.leaf->vma_error = -16;
  w = r.resolve_leaf(7, raw, frames);
  EXPECT_FALSE(w->word.has_offset);
  files.by_pid[8] = {mapping(0x555500001000, 0x555500003000, 0x1000, 11, "/usr/bin/prog")};
  files.ids[11] = "beef";
  w = r.resolve_leaf(8, raw, {});
  EXPECT_EQ(w->word, (common::UserFrame{0x555500001300, "beef", "/usr/bin/prog", 0x1300, true}));
  EXPECT_EQ(r.stats().leaves_named, 2u);
  EXPECT_EQ(r.stats().leaves_unnamed, 3u);

  raw.leaf.reset();
  EXPECT_FALSE(r.resolve_leaf(7, raw, frames));
}

TEST(UserStackTable, TheLeafWordIsPartOfTheIdentity) {
  UserStackTable t;
  std::vector<common::UserFrame> a = {{0x10, "ab", "/bin/p", 0x10, true}};
  common::UserLeaf one{{0x20, "ab", "/bin/p", 0x20, true}, 0, false}, two{{0x30, "ab", "/bin/p", 0x30, true}, 0, false};
  bool fresh = false;
  EXPECT_EQ(t.intern(a, &fresh), 1u);
  EXPECT_EQ(t.intern(a, one, &fresh), 2u);
  EXPECT_EQ(t.intern(a, two, &fresh), 3u);
  EXPECT_EQ(t.intern(a, one, &fresh), 2u);
  EXPECT_FALSE(fresh);
}

}  // namespace
}  // namespace capaudit::record
