// Bounded cost on hostile traces (issue #14, item 9): a claimed count must be
// paid for in bytes, a frame may not decompress to thousands of times its
// size, and the trailer's counts must match the batches. Such files are
// corrupt, found fast, at the byte offset of the damage (DESIGN 4). The
// traces are built here, in memory, the way an attacker would write them.
#include <capnp/message.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/support/scratch_dir.h"
#include "common/trace_codec.h"
#include "common/trace_io.h"
#include "tests/support/bounded_run.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

void append(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// Counts what the reader delivers without keeping it (a hostile claim must
// cost the test nothing but time, which is what is measured).
struct CountingVisitor : TraceVisitor {
  uint64_t checks = 0;
  bool trailer = false;
  void on_cap_checks(std::span<const CapCheck> e) override { checks += e.size(); }
  void on_trailer(const Trailer&) override { trailer = true; }
};

struct Hostile {
  std::vector<uint8_t> bytes;
  uint64_t first_batch_offset = 0;
};

void add_header(std::vector<uint8_t>& out, codec::FrameEncoder& enc) {
  append(out, codec::preamble());
  capnp::MallocMessageBuilder m;
  codec::to_capnp(test::example_header(), m.initRoot<schema::Frame>().initHeader());
  append(out, enc.encode(m));
}

void add_trailer(std::vector<uint8_t>& out, codec::FrameEncoder& enc, uint64_t batches, uint64_t checks) {
  capnp::MallocMessageBuilder m;
  Trailer t;
  t.clean_shutdown = true;
  t.stop_reason = "target exited";
  t.counts.cap_checks = checks;
  codec::to_capnp(t, batches, m.initRoot<schema::Frame>().initTrailer());
  append(out, enc.encode(m));
}

// 100 batches of ~90 bytes, each claiming 16 Mi checks that share every
// value (one pid, one cap, no per-check column): 1.6 G checks from 10 KB.
Hostile claimed_checks_trace() {
  Hostile h;
  codec::FrameEncoder enc(3);
  add_header(h.bytes, enc);
  const uint32_t claim = 16u << 20;
  for (uint64_t seq = 0; seq < 100; ++seq) {
    if (seq == 0) h.first_batch_offset = h.bytes.size();
    capnp::MallocMessageBuilder m;
    auto b = m.initRoot<schema::Frame>().initBatch();
    b.setSeq(seq);
    auto c = b.initCapChecks();
    c.setCount(claim);
    c.initPid(1).set(0, 4242);
    c.initCap(1).set(0, 21);
    append(h.bytes, enc.encode(m));
  }
  add_trailer(h.bytes, enc, 100, 100ull * claim);
  return h;
}

// Batches whose every check is carried by an 8-byte plane of zeros: valid,
// but 16 MiB that compress to a few hundred bytes each.
Hostile zero_bomb_trace(int frames) {
  Hostile h;
  codec::FrameEncoder enc(1);
  add_header(h.bytes, enc);
  const uint32_t count = 2u << 20;
  for (int seq = 0; seq < frames; ++seq) {
    if (seq == 0) h.first_batch_offset = h.bytes.size();
    capnp::MallocMessageBuilder m;
    auto c = m.initRoot<schema::Frame>().initBatch();
    c.setSeq(static_cast<uint64_t>(seq));
    auto cols = c.initCapChecks();
    cols.setCount(count);
    cols.setTimeDeltaWidth(8);
    cols.initTimeDeltaPlanes(count * 8);  // zero-filled
    append(h.bytes, enc.encode(m));
  }
  add_trailer(h.bytes, enc, static_cast<uint64_t>(frames), uint64_t{count} * static_cast<uint64_t>(frames));
  return h;
}

// 1.9: a header whose kernel config holds more symbols, or longer text,
// than a recorder writes is corrupt at the header, named by its offset.
TEST(TraceBounds, KernelConfigBeyondItsBoundsIsCorrupt) {
  Header many = test::example_header();
  many.kernel_config_source = "/proc/config.gz";
  for (size_t i = 0; i <= codec::kMaxKernelConfigSymbols; ++i) many.kernel_config.push_back({"CONFIG_X" + std::to_string(i), "y"});
  Header long_value = test::example_header();
  long_value.kernel_config_source = "/proc/config.gz";
  long_value.kernel_config = {{"CONFIG_CMDLINE", std::string(codec::kMaxKernelConfigValueBytes + 1, 'a')}};
  Header fits = long_value;
  fits.kernel_config[0].value.resize(codec::kMaxKernelConfigValueBytes);
  for (const auto& [h, bad, what] : {std::tuple{many, true, "65 symbols"}, std::tuple{long_value, true, "value of 1025 bytes"},
                                     std::tuple{fits, false, ""}}) {
    std::vector<uint8_t> bytes;
    codec::FrameEncoder enc(3);
    append(bytes, codec::preamble());
    capnp::MallocMessageBuilder m;
    codec::to_capnp(h, m.initRoot<schema::Frame>().initHeader());
    append(bytes, enc.encode(m));
    add_trailer(bytes, enc, 0, 0);
    struct HeaderVisitor : TraceVisitor {
      std::optional<Header> header;
      void on_header(const Header& x) override { header = x; }
    } v;
    const ReadResult r = read_trace_bytes(bytes, v);
    if (!bad) {
      EXPECT_EQ(r.status, ReadStatus::complete) << r.message;
      ASSERT_TRUE(v.header);
      EXPECT_EQ(v.header->kernel_config, h.kernel_config);
      continue;
    }
    EXPECT_EQ(r.status, ReadStatus::corrupt) << what;
    EXPECT_EQ(r.error_offset, codec::kPreambleSize) << r.message;
    EXPECT_NE(r.message.find(what), std::string::npos) << r.message;
    EXPECT_FALSE(v.header) << "a header beyond the bounds is not delivered";
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(TraceBounds, ChecksClaimedWithoutBytesAreCorruptAtOnce) {
  const Hostile h = claimed_checks_trace();
  ASSERT_LT(h.bytes.size(), 20'000u);
  CountingVisitor v;
  const auto t0 = std::chrono::steady_clock::now();
  const ReadResult r = read_trace_bytes(h.bytes, v);
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_EQ(r.status, ReadStatus::corrupt) << r.message;
  EXPECT_EQ(r.error_offset, h.first_batch_offset) << r.message;
  EXPECT_NE(r.message.find("stores no value per check"), std::string::npos) << r.message;
  EXPECT_EQ(v.checks, 0u);
}

TEST(TraceBounds, DecompressionBombIsCorruptBeforeItIsInflated) {
  const Hostile h = zero_bomb_trace(8);
  ASSERT_LT(h.bytes.size(), 100'000u) << "each 16 MiB frame compresses to almost nothing";
  CountingVisitor v;
  const auto t0 = std::chrono::steady_clock::now();
  const ReadResult r = read_trace_bytes(h.bytes, v);
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_EQ(r.status, ReadStatus::corrupt) << r.message;
  EXPECT_EQ(r.error_offset, h.first_batch_offset) << r.message;
  EXPECT_NE(r.message.find("decompression bomb"), std::string::npos) << r.message;
  EXPECT_EQ(v.checks, 0u);

  // Without the ratio bound the same file reads as complete: the test is about the bound.
  ReadLimits unbounded;
  unbounded.max_expansion_ratio = UINT64_MAX;
  CountingVisitor all;
  EXPECT_EQ(read_trace_bytes(h.bytes, all, unbounded).status, ReadStatus::complete);
}

TEST(TraceBounds, TrailerCountsMustMatchTheBatches) {
  codec::FrameEncoder enc(3);
  std::vector<uint8_t> bytes;
  add_header(bytes, enc);
  capnp::MallocMessageBuilder m;
  codec::Batch batch;
  batch.checks.push_back(test::check(10, 5, 13, true, 41));
  batch.checks.push_back(test::check(20, 5, 13, true, 41));
  codec::to_capnp(batch, 0, m.initRoot<schema::Frame>().initBatch());
  append(bytes, enc.encode(m));
  const uint64_t trailer_offset = bytes.size();
  add_trailer(bytes, enc, 1, 2'000'000);  // claims far more than the file holds
  CountingVisitor v;
  const ReadResult r = read_trace_bytes(bytes, v);
  EXPECT_EQ(r.status, ReadStatus::corrupt) << r.message;
  EXPECT_EQ(r.error_offset, trailer_offset);
  EXPECT_NE(r.message.find("trailer counts 2000000 capability checks, the batches hold 2"), std::string::npos)
      << r.message;
}

// The writer never produces what the reader refuses: a batch larger than
// max_uncarried_checks whose checks share every value keeps a value per check.
TEST(TraceBounds, WriterCarriesALargeUniformBatchInBytes) {
  OutputOptions opts;
  opts.batch_events = 200'000;
  test::TraceBuilder b(opts);
  for (uint64_t i = 0; i < 150'000; ++i) b.add(test::check(1000 + 10 * i, 9, 21, true, 105));
  CountingVisitor v;
  const ReadResult r = read_trace_bytes(b.finish(), v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.checks, 150'000u);
}

// The analyzer's commands on the same files: exit 2, the damage named with its
// offset, within loose time and memory bounds.
TEST(TraceBounds, AnalyzerCommandsReportHostileTracesAsCorruptQuickly) {
  const capaudit::test::ScratchDir scratch("capaudit-bounds");
  ASSERT_TRUE(scratch.ok());
  const std::filesystem::path& dir = scratch.path();
  struct Case {
    const char* name;
    Hostile h;
  };
  for (auto& c : {Case{"claims.cap", claimed_checks_trace()}, Case{"bomb.cap", zero_bomb_trace(8)}}) {
    const std::string path = (dir / c.name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(c.h.bytes.data()),
                                                static_cast<std::streamsize>(c.h.bytes.size()));
    for (const char* cmd : {"info", "dump", "report", "config"}) {
      const auto m = test::run_measured({CAPAUDIT_ANALYZE_BIN, cmd, path}, 60);
      EXPECT_FALSE(m.timed_out) << cmd << " " << c.name;
      EXPECT_EQ(m.status, 3) << cmd << " " << c.name << "\n" << m.out.substr(0, 2000);
      EXPECT_LT(m.seconds, 5.0) << cmd << " " << c.name;
      EXPECT_LT(m.max_rss_kb, 512 * 1024) << cmd << " " << c.name;
      EXPECT_NE(m.out.find("at byte " + std::to_string(c.h.first_batch_offset)), std::string::npos)
          << cmd << " " << c.name << "\n" << m.out.substr(0, 2000);
    }
  }
}

}  // namespace
}  // namespace capaudit::common
