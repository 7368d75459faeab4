// Damaged input: every truncation point and thousands of random corruptions.
// The reader must never crash, never throw, and say honestly what happened.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/support/scratch_dir.h"
#include "common/trace_io.h"
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
  b.processes({p});
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

}  // namespace
}  // namespace capaudit::common
