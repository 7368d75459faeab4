// Damaged input: every truncation point and thousands of random corruptions.
// The reader must never crash, never throw, and say honestly what happened.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <capnp/message.h>

#include <functional>

#include "common/trace_codec.h"
#include "tests/support/scratch_dir.h"
#include "common/trace_io.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

using test::check;
using test::CollectingVisitor;
using test::TraceBuilder;

// Header, snapshot, three one-check batches, trailer.
std::vector<uint8_t> small_trace() {
  TraceBuilder b;
  ProcessInfo p;
  p.pid = 7;
  p.exe = "/bin/true";
  b.snapshot({p});
  b.add(check(100, 7, 12, true, 54)).flush();
  b.add(check(200, 7, 13, false, 41)).add(ExitEvent{250, 7, 7, 0, false}).flush();
  b.add(check(300, 7, 21, true, 165)).flush();
  Trailer t;
  t.clean_shutdown = true;
  return b.finish(t);
}

TEST(TraceDamage, TruncationAtEveryByte) {
  const auto full = small_trace();
  uint64_t last_batches = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    CollectingVisitor v;
    const ReadResult r = read_trace_bytes(std::span(full.data(), n), v);
    ASSERT_EQ(r.status, ReadStatus::truncated) << "prefix " << n << ": " << r.message;
    EXPECT_NE(r.message.find("truncated after " + std::to_string(r.batches) + " batches"), std::string::npos) << r.message;
    EXPECT_LE(r.error_offset, n);
    EXPECT_FALSE(r.has_trailer);
    // Exactly the complete batches are delivered, in order, never fewer as the prefix grows.
    EXPECT_EQ(v.checks.size(), r.batches) << "prefix " << n;
    EXPECT_GE(r.batches, last_batches);
    last_batches = r.batches;
  }
  EXPECT_EQ(last_batches, 3u);  // the cut inside the trailer still delivers every batch
  CollectingVisitor v;
  EXPECT_EQ(read_trace_bytes(full, v).status, ReadStatus::complete);
}

// The 1.7 path-sampling fields (header) and losses (trailer): a cut anywhere
// either delivers the header whole, the fields with it, or no header at all;
// random bytes never crash the reader, whatever values they leave.
TEST(TraceDamage, PathSamplingFieldsAreWholeOrAbsent) {
  Header h = test::example_header();
  h.paths_per_key = 8;
  h.path_frames = 8;
  h.path_free_checks = 32;
  TraceBuilder b;
  b.header = h;
  b.add(check(100, 7, 34, true, 257)).flush();
  Trailer t;
  t.clean_shutdown = true;
  t.losses.paths_full = 3;
  t.losses.paths_unchecked = 1000;
  const auto full = b.finish(t);
  for (size_t n = 0; n < full.size(); ++n) {
    CollectingVisitor v;
    const ReadResult r = read_trace_bytes(std::span(full.data(), n), v);
    ASSERT_EQ(r.status, ReadStatus::truncated) << "prefix " << n << ": " << r.message;
    if (r.has_header) {
      EXPECT_EQ(v.header.paths_per_key, 8u) << "prefix " << n;
      EXPECT_EQ(v.header.path_frames, 8u) << "prefix " << n;
      EXPECT_EQ(v.header.path_free_checks, 32u) << "prefix " << n;
    }
  }
  CollectingVisitor whole;
  ASSERT_EQ(read_trace_bytes(full, whole).status, ReadStatus::complete);
  ASSERT_EQ(whole.trailers, 1);
  EXPECT_EQ(whole.trailer.losses.paths_full, 3u);
  EXPECT_EQ(whole.trailer.losses.paths_unchecked, 1000u);
  std::mt19937 rng(17);
  for (int i = 0; i < 500; ++i) {
    auto bad = full;
    for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    CollectingVisitor v;
    (void)read_trace_bytes(bad, v);  // must return, whatever it says
  }
}

TEST(TraceDamage, TruncatedFilesOnDisk) {
  const auto full = small_trace();
  const capaudit::test::ScratchDir scratch("capaudit-trunc");
  ASSERT_TRUE(scratch.ok());
  const std::filesystem::path& dir = scratch.path();
  for (size_t n : {size_t{0}, size_t{5}, size_t{16}, full.size() / 2, full.size() - 1}) {
    const auto path = (dir / ("t" + std::to_string(n))).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(full.data()), static_cast<std::streamsize>(n));
    CollectingVisitor from_file, from_bytes;
    const ReadResult a = read_trace(path, from_file);
    const ReadResult b = read_trace_bytes(std::span(full.data(), n), from_bytes);
    EXPECT_EQ(a.status, b.status) << n;
    EXPECT_EQ(a.batches, b.batches) << n;
    EXPECT_EQ(a.message, b.message) << n;
  }
}

TEST(TraceDamage, RandomCorruptionNeverCrashes) {
  const auto full = small_trace();
  CollectingVisitor original;
  ASSERT_EQ(read_trace_bytes(full, original).status, ReadStatus::complete);
  std::mt19937_64 rng(20261129);
  int corrupt = 0, complete = 0;
  for (int round = 0; round < 5000; ++round) {
    auto bytes = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    size_t first_damage = bytes.size();
    size_t last_damage = 0;
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % bytes.size();
      const uint8_t old = bytes[at];
      bytes[at] = (round % 2) ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(old ^ (1u << (rng() % 8)));
      // Preamble flag bytes (12..15) are defined as ignorable, so they are not damage.
      const bool ignorable = at >= 12 && at < 16;
      if (bytes[at] != old && !ignorable) {
        first_damage = std::min(first_damage, at);
        last_damage = std::max(last_damage, at);
      }
    }
    CollectingVisitor v;
    const ReadResult r = read_trace_bytes(bytes, v);
    if (r.status == ReadStatus::corrupt) {
      ++corrupt;
      EXPECT_NE(r.message.find("byte"), std::string::npos) << r.message;
      EXPECT_LE(r.error_offset, bytes.size());
      // The reported frame contains damage: it starts at or before a changed
      // byte (an earlier flip may have hit bits the decoder ignores).
      EXPECT_LE(r.error_offset, last_damage) << r.message;
    }
    if (r.status == ReadStatus::complete) {
      ++complete;
      // Damage may go unnoticed only where it cannot change meaning (bits the
      // decoder never uses): the content must be exactly the original.
      EXPECT_EQ(v.checks, original.checks) << "damage at byte " << first_damage;
      EXPECT_EQ(v.processes, original.processes);
      EXPECT_EQ(v.exits, original.exits);
      EXPECT_EQ(v.header, original.header);
      EXPECT_EQ(v.trailers, original.trailers);
      EXPECT_EQ(v.trailer, original.trailer);
    }
  }
  EXPECT_GT(corrupt, 3000);  // zstd checksums catch nearly every flip
}

TEST(TraceDamage, LimitsAreEnforced) {
  TraceBuilder b;
  for (int i = 0; i < 1000; ++i) b.add(check(i * 13ull, i, i % 40, true, i));
  const auto bytes = b.finish();
  ReadLimits tiny;
  tiny.max_message_bytes = 256;
  CollectingVisitor v;
  ReadResult r = read_trace_bytes(bytes, v, tiny);
  EXPECT_EQ(r.status, ReadStatus::corrupt);
  EXPECT_NE(r.message.find("exceeds the limit"), std::string::npos) << r.message;

  ReadLimits few_events;
  few_events.max_batch_events = 999;
  CollectingVisitor v2;
  r = read_trace_bytes(bytes, v2, few_events);
  EXPECT_EQ(r.status, ReadStatus::corrupt);
  EXPECT_NE(r.message.find("limit of 999"), std::string::npos) << r.message;

  ReadLimits shallow;
  shallow.traversal_limit_words = 16;
  CollectingVisitor v3;
  r = read_trace_bytes(bytes, v3, shallow);
  EXPECT_EQ(r.status, ReadStatus::corrupt) << r.message;
}

TEST(TraceDamage, WrongContainerVersionIsRefused) {
  auto bytes = small_trace();
  bytes[8] = 2;
  CollectingVisitor v;
  const ReadResult r = read_trace_bytes(bytes, v);
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_NE(r.message.find("container version 2"), std::string::npos) << r.message;
  EXPECT_EQ(v.headers, 0);
}

// A header, one good batch, one batch whose user stacks MAKE writes
// (hand-built, as damage or an attacker would), and a trailer that counts both.
struct Damaged {
  std::vector<uint8_t> bytes;
  uint64_t bad_batch_offset = 0;
};
Damaged with_user_stack_batch(const std::function<void(schema::EventBatch::Builder)>& make, uint64_t user_stacks) {
  Damaged d;
  auto put = [&](capnp::MallocMessageBuilder& m, codec::FrameEncoder& enc) {
    auto f = enc.encode(m);
    d.bytes.insert(d.bytes.end(), f.begin(), f.end());
  };
  codec::FrameEncoder enc(3);
  auto pre = codec::preamble();
  d.bytes.assign(pre.begin(), pre.end());
  {
    capnp::MallocMessageBuilder m;
    codec::to_capnp(test::example_header(), m.initRoot<schema::Frame>().initHeader());
    put(m, enc);
  }
  {
    capnp::MallocMessageBuilder m;
    codec::Batch good;
    good.user_stacks.push_back(UserStack{1, {UserFrame{0x401000, "00ff", "/bin/x", 0x1000, true}}});
    codec::to_capnp(good, 0, m.initRoot<schema::Frame>().initBatch());
    put(m, enc);
  }
  d.bad_batch_offset = d.bytes.size();
  {
    capnp::MallocMessageBuilder m;
    auto b = m.initRoot<schema::Frame>().initBatch();
    b.setSeq(1);
    make(b);
    put(m, enc);
  }
  capnp::MallocMessageBuilder m;
  Trailer t;
  t.clean_shutdown = true;
  t.counts.user_stacks = user_stacks;
  codec::to_capnp(t, 2, m.initRoot<schema::Frame>().initTrailer());
  put(m, enc);
  return d;
}

// Damaged user-stack sections (1.6): corrupt at the batch that holds them,
// the batches before it delivered, and the message says what is wrong.
TEST(TraceDamage, UserStackSectionsAreChecked) {
  struct Case {
    const char* what;
    std::function<void(schema::EventBatch::Builder)> make;
    const char* message;
  };
  const Case cases[] = {
      {"columns of different lengths",
       [](schema::EventBatch::Builder b) {
         auto u = b.initUserStacks(1)[0];
         u.setId(2);
         u.initIp(3);
         u.initFileOffset(2);
       },
       "column fileOffset has 2 values for 3 frames"},
      {"a file the batch does not name",
       [](schema::EventBatch::Builder b) {
         auto u = b.initUserStacks(1)[0];
         u.setId(2);
         u.initFile(1).set(0, 2);
         b.initMappedFiles(1)[0].setPath("/bin/x");
       },
       "names file 2 of a batch with 1"},
      {"a leaf naming a file the batch does not name (1.7)",
       [](schema::EventBatch::Builder b) {
         auto u = b.initUserStacks(1)[0];
         u.setId(2);
         u.initIp(1).set(0, 0x401000);
         auto w = u.initLeaf();
         w.setIp(0x401234);
         w.setFile(1);
         w.setHasOffset(true);
       },
       "leaf names file 1 of a batch with 0"},
      {"a build ID longer than any",
       [](schema::EventBatch::Builder b) {
         auto u = b.initUserStacks(1)[0];
         u.setId(2);
         u.initFile(1).set(0, 1);
         b.initMappedFiles(1)[0].initBuildId(33);
       },
       "build ID of 33 bytes"},
      {"a user stack id column of the wrong length",
       [](schema::EventBatch::Builder b) {
         auto c = b.initCapChecks();
         c.setCount(3);
         c.initUserStackId(2);
       },
       "userStackId has 2 values for 3 events"},
  };
  for (const auto& c : cases) {
    const Damaged d = with_user_stack_batch(c.make, 2);
    CollectingVisitor v;
    const ReadResult r = read_trace_bytes(d.bytes, v);
    EXPECT_EQ(r.status, ReadStatus::corrupt) << c.what << ": " << r.message;
    EXPECT_EQ(r.error_offset, d.bad_batch_offset) << c.what;
    EXPECT_NE(r.message.find(c.message), std::string::npos) << c.what << ": " << r.message;
    ASSERT_EQ(v.user_stacks.size(), 1u) << c.what << ": the good batch is delivered";
    EXPECT_EQ(v.user_stacks[0].frames[0].build_id, "00ff");
  }
  // The same frame built well reads complete, so the cases above fail for their damage.
  const Damaged fine = with_user_stack_batch(
      [](schema::EventBatch::Builder b) {
        auto u = b.initUserStacks(1)[0];
        u.setId(2);
        u.initFile(1).set(0, 1);
        b.initMappedFiles(1)[0].initBuildId(32);
      },
      2);
  CollectingVisitor v;
  const ReadResult r = read_trace_bytes(fine.bytes, v);
  EXPECT_EQ(r.status, ReadStatus::complete) << r.message;
  ASSERT_EQ(v.user_stacks.size(), 2u);
  EXPECT_EQ(v.user_stacks[1].frames[0].build_id, std::string(64, '0'));

  // A trailer that counts user stacks the batches do not hold.
  const Damaged forged = with_user_stack_batch([](schema::EventBatch::Builder) {}, 5);
  CollectingVisitor f;
  const ReadResult fr = read_trace_bytes(forged.bytes, f);
  EXPECT_EQ(fr.status, ReadStatus::corrupt);
  EXPECT_NE(fr.message.find("trailer counts 5 user stacks, the batches hold 1"), std::string::npos) << fr.message;
}

}  // namespace
}  // namespace capaudit::common
