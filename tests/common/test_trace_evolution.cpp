// Schema evolution: today's reader must read what a future writer produces
// under the evolution rules, and refuse what it must not misread.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include "common/trace_codec.h"
#include "common/trace_io.h"
#include "tests/common/trace_future.capnp.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

namespace future = capaudit::schema_future;

void append(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// A trace as a future writer (format 1.7) would write it.
std::vector<uint8_t> future_trace(uint32_t format_major) {
  std::vector<uint8_t> out;
  append(out, codec::preamble());
  codec::FrameEncoder enc(3);
  {
    capnp::MallocMessageBuilder m;
    auto h = m.initRoot<future::Frame>().initHeader();
    h.setFormatMajor(format_major);
    h.setFormatMinor(7);
    h.setContainerRuntime("containerd");
    auto host = h.initHost();
    host.setHostname("future-host");
    host.setArch("aarch64");
    host.setMachineId("0123456789abcdef");
    auto hook = h.initHook();
    hook.setHook(future::Hook::LSM_CAPABLE);
    auto attempts = hook.initAttempts(2);
    attempts[0].setHook(future::Hook::LSM_CAPABLE);
    attempts[0].setUsed(true);
    attempts[0].setReason("lsm hook");
    attempts[0].setLoadTimeNs(12345);
    attempts[1].setHook(future::Hook::TP_BTF);
    attempts[1].setReason("not needed");
    hook.setOptsAvailable(true);
    append(out, enc.encode(m));
  }
  {
    capnp::MallocMessageBuilder m;
    auto notes = m.initRoot<future::Frame>().initAnnotations(1);
    notes.set(0, "a frame kind from the future");
    append(out, enc.encode(m));
  }
  {
    capnp::MallocMessageBuilder m;
    auto b = m.initRoot<future::Frame>().initBatch();
    b.setSeq(0);
    auto ops = b.initOperations(2);
    ops[0].setTimeNs(10);
    ops[0].setPid(5);
    ops[0].setKind(future::OpKind::KEYCTL);
    ops[0].setA0(1);
    ops[0].setA4(99);
    ops[1].setTimeNs(11);
    ops[1].setPid(5);
    ops[1].setKind(future::OpKind::BIND);
    ops[1].setA1(80);
    ops[1].setHasRet(true);
    ops[1].setRet(0);
    b.initMounts(1).set(0, "/mnt");
    append(out, enc.encode(m));
  }
  {
    // A batch and the trailer as today's writer encodes them.
    capnp::MallocMessageBuilder m;
    codec::Batch batch;
    batch.checks.push_back(test::check(20, 5, 13, true, 41));
    codec::to_capnp(batch, 1, m.initRoot<schema::Frame>().initBatch());
    append(out, enc.encode(m));
  }
  {
    capnp::MallocMessageBuilder m;
    Trailer t;
    t.clean_shutdown = true;
    t.counts.cap_checks = 1;  // a writer's trailer counts what its batches hold
    t.counts.operations = 2;
    codec::to_capnp(t, 2, m.initRoot<schema::Frame>().initTrailer());
    append(out, enc.encode(m));
  }
  return out;
}

TEST(TraceEvolution, ReadsUnknownFieldsEnumsAndFrameKinds) {
  const auto bytes = future_trace(1);
  test::CollectingVisitor v;
  const ReadResult r = read_trace_bytes(bytes, v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(r.batches, 2u);
  EXPECT_EQ(v.header.format_major, 1u);
  EXPECT_EQ(v.header.format_minor, 7u);
  EXPECT_EQ(v.header.hostname, "future-host");
  EXPECT_EQ(v.header.arch, "aarch64");
  EXPECT_EQ(v.header.hook, Hook::unknown);  // unknown enumerant -> unknown, not an error
  ASSERT_EQ(v.header.hook_attempts.size(), 2u);
  EXPECT_EQ(v.header.hook_attempts[0].hook, Hook::unknown);
  EXPECT_TRUE(v.header.hook_attempts[0].used);
  EXPECT_EQ(v.header.hook_attempts[0].reason, "lsm hook");
  EXPECT_EQ(v.header.hook_attempts[1].hook, Hook::tp_btf);
  EXPECT_TRUE(v.header.opts_available);
  ASSERT_EQ(v.operations.size(), 2u);
  EXPECT_EQ(v.operations[0].kind, OpKind::unknown);
  EXPECT_EQ(v.operations[0].a0, 1);
  EXPECT_EQ(v.operations[1].kind, OpKind::bind);
  EXPECT_EQ(v.operations[1].a1, 80);
  EXPECT_EQ(v.operations[1].ret, std::optional<int64_t>(0));
  EXPECT_EQ(v.checks, std::vector<CapCheck>{test::check(20, 5, 13, true, 41)});
  EXPECT_EQ(v.trailers, 1);
}

TEST(TraceEvolution, RefusesANewMajorVersion) {
  const auto bytes = future_trace(2);
  test::CollectingVisitor v;
  const ReadResult r = read_trace_bytes(bytes, v);
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_NE(r.message.find("format 2"), std::string::npos) << r.message;
  EXPECT_EQ(v.headers, 0);  // nothing delivered from a file it cannot understand
  EXPECT_TRUE(v.operations.empty());
}

// A trace written before Losses.hookMisses existed (format 1.2, committed
// fixture): every older loss keeps its value and the new one reads as none.
TEST(TraceEvolution, Format12TraceHasNoHookMisses) {
  test::CollectingVisitor v;
  const ReadResult r = read_trace(CAPAUDIT_FIXTURES_DIR "/losses-1.2.cap", v);
  ASSERT_EQ(r.status, ReadStatus::complete) << r.message;
  EXPECT_EQ(v.header.format_minor, 2u);
  ASSERT_EQ(v.trailers, 1);
  const Losses expected{1, 2, 3, 4, 5, 6, 7, 8, 0};
  EXPECT_EQ(v.trailer.losses, expected);
}

// 1.5 check context from a damaged or hostile writer: lists longer than a
// fact can mean are cut to their bounds (6 argument registers, 16 user words,
// 64 state slots), and a fact without lists reads as one with nothing recorded.
TEST(TraceEvolution, CheckContextListsAreBounded) {
  std::vector<uint8_t> out;
  append(out, codec::preamble());
  codec::FrameEncoder enc(3);
  {
    capnp::MallocMessageBuilder m;
    codec::to_capnp(test::example_header(), m.initRoot<schema::Frame>().initHeader());
    append(out, enc.encode(m));
  }
  {
    capnp::MallocMessageBuilder m;
    auto b = m.initRoot<schema::Frame>().initBatch();
    b.setSeq(0);
    auto ops = b.initOperations(2);
    ops[0].setKind(schema::OpKind::CAP_CHECK);
    ops[0].setCap(14);
    auto args = ops[0].initArgs(1000);
    for (unsigned i = 0; i < 1000; ++i) args.set(i, i);
    ops[0].initUserWords(100);
    ops[0].initState(5000);
    ops[1].setKind(schema::OpKind::CAP_CHECK);
    append(out, enc.encode(m));
  }
  test::CollectingVisitor v;
  const ReadResult r = read_trace_bytes(out, v);
  EXPECT_EQ(r.status, ReadStatus::truncated);  // no trailer
  ASSERT_EQ(v.operations.size(), 2u);
  EXPECT_EQ(v.operations[0].kind, OpKind::cap_check);
  EXPECT_EQ(v.operations[0].args, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(v.operations[0].user_words.size(), 16u);
  EXPECT_EQ(v.operations[0].state.size(), 64u);
  EXPECT_TRUE(v.operations[1].args.empty());
  EXPECT_EQ(v.operations[1].state_at(StateSlot::memlock_soft), std::nullopt);
}

}  // namespace
}  // namespace capaudit::common
