// Malformed capability-check columns, crafted directly in Cap'n Proto: each
// must be reported as corrupt at the batch's offset, never misread.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <functional>

#include "common/trace_codec.h"
#include "common/trace_io.h"
#include "tests/support/collector.h"
#include "tests/support/trace_builder.h"

namespace capaudit::common {
namespace {

void append(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// Preamble + header + one batch whose columns `shape` fills by hand.
std::vector<uint8_t> trace_with_columns(const std::function<void(schema::CapCheckColumns::Builder)>& shape,
                                        uint64_t* batch_offset) {
  std::vector<uint8_t> out;
  append(out, codec::preamble());
  codec::FrameEncoder enc(3);
  capnp::MallocMessageBuilder h;
  codec::to_capnp(test::example_header(), h.initRoot<schema::Frame>().initHeader());
  append(out, enc.encode(h));
  *batch_offset = out.size();
  capnp::MallocMessageBuilder b;
  auto batch = b.initRoot<schema::Frame>().initBatch();
  shape(batch.initCapChecks());
  append(out, enc.encode(b));
  return out;
}

struct Case {
  const char* name;
  std::function<void(schema::CapCheckColumns::Builder)> shape;
  const char* message;
};

TEST(TraceColumns, MalformedColumnsAreCorruptAtTheBatch) {
  const std::vector<Case> cases = {
      {"pid column of the wrong length",
       [](auto c) {
         c.setCount(3);
         c.initPid(2);
       },
       "column pid has 2 values for 3 events"},
      {"time spreads of the wrong length (1.4)",
       [](auto c) {
         c.setCount(3);
         c.initTimeSpreadNs(2);
       },
       "column timeSpreadNs has 2 values for 3 events"},
      {"time planes of the wrong size",
       [](auto c) {
         c.setCount(4);
         c.setTimeDeltaWidth(2);
         c.initTimeDeltaPlanes(7);
       },
       "7 bytes for 4 events of width 2"},
      {"time planes of width 9",
       [](auto c) {
         c.setCount(1);
         c.setTimeDeltaWidth(9);
         c.initTimeDeltaPlanes(9);
       },
       "width 9"},
      {"times stored twice",
       [](auto c) {
         c.setCount(2);
         c.initTimeDeltas(2);
         c.setTimeDeltaWidth(1);
         c.initTimeDeltaPlanes(2);
       },
       "stored twice"},
  };
  for (const auto& k : cases) {
    uint64_t offset = 0;
    const auto bytes = trace_with_columns(k.shape, &offset);
    test::CollectingVisitor v;
    const ReadResult r = read_trace_bytes(bytes, v);
    EXPECT_EQ(r.status, ReadStatus::corrupt) << k.name;
    EXPECT_EQ(r.error_offset, offset) << k.name;
    EXPECT_NE(r.message.find(k.message), std::string::npos) << k.name << ": " << r.message;
    EXPECT_TRUE(v.checks.empty()) << k.name;
    EXPECT_EQ(v.headers, 1) << k.name;  // what came before the damage was delivered
  }
}

TEST(TraceColumns, WellFormedHandMadeColumnsDecode) {
  uint64_t offset = 0;
  const auto bytes = trace_with_columns(
      [](auto c) {
        c.setCount(3);
        c.setTimeBaseNs(100);
        c.setTimeDeltaMin(-5);  // out of order across CPUs
        c.setTimeDeltaWidth(2);
        auto p = c.initTimeDeltaPlanes(6);
        const uint16_t u[3] = {5, 0, 0x0105};  // d = 0, -5, 256
        for (int i = 0; i < 3; ++i) {
          p[i] = static_cast<uint8_t>(u[i]);
          p[3 + i] = static_cast<uint8_t>(u[i] >> 8);
        }
        c.initCap(1).set(0, 13);
        auto spread = c.initTimeSpreadNs(3);
        spread.set(1, 40);  // an untimed repeat between the other two
        auto cred = c.initCheckedCred(3);
        cred.set(1, 2);  // foreign
        cred.set(2, 9);  // a value from a newer writer
        c.initCheckedEuid(1).set(0, 1000);
      },
      &offset);
  test::CollectingVisitor v;
  const ReadResult r = read_trace_bytes(bytes, v);
  EXPECT_EQ(r.status, ReadStatus::truncated) << r.message;  // no trailer
  ASSERT_EQ(v.checks.size(), 3u);
  EXPECT_EQ(v.checks[0].time_ns, 100u);
  EXPECT_EQ(v.checks[1].time_ns, 95u);
  EXPECT_EQ(v.checks[2].time_ns, 351u);
  EXPECT_EQ(v.checks[0].time_spread_ns, 0u);
  EXPECT_EQ(v.checks[1].time_spread_ns, 40u);
  EXPECT_EQ(v.checks[2].time_spread_ns, 0u);
  EXPECT_EQ(v.checks[0].checked_cred, CheckedCred::own);
  EXPECT_EQ(v.checks[1].checked_cred, CheckedCred::foreign);
  EXPECT_EQ(v.checks[2].checked_cred, CheckedCred::foreign);  // unknown: never the program's own
  for (const auto& c : v.checks) {
    EXPECT_EQ(c.checked_euid, 1000u);
    EXPECT_EQ(c.cap, 13);
    EXPECT_EQ(c.syscall_nr, -1);  // omitted column -> default
  }
}

}  // namespace
}  // namespace capaudit::common
