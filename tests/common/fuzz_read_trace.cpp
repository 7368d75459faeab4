// libFuzzer target for the trace reader. Any crash, sanitizer report,
// uncaught exception or leak is a bug. Built with -DCAPAUDIT_BUILD_FUZZ=ON
// (clang); scripts/test runs it when CI=true.
//
// The first input byte picks what the rest is:
//   even: a whole trace file, bytes as they are on disk;
//   odd:  one Cap'n Proto message, framed correctly (valid preamble, header
//         frame, and a zstd frame with a correct checksum around it), so the
//         message decoding is fuzzed too — random bytes almost never get past
//         the zstd checksum on their own.
#include <zstd.h>

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/trace_codec.h"
#include "common/trace_io.h"

namespace {

namespace common = capaudit::common;

// Touches every delivered value so ASan sees any out-of-bounds span.
struct TouchingVisitor : common::TraceVisitor {
  uint64_t sum = 0;
  void on_header(const common::Header& h) override { sum += h.hostname.size() + h.sysctls_global.size(); }
  void on_processes(std::span<const common::ProcessInfo> p) override {
    for (const auto& e : p) sum += e.pid + e.argv.size();
  }
  void on_cap_checks(std::span<const common::CapCheck> c) override {
    for (const auto& e : c) sum += e.time_ns + static_cast<uint64_t>(e.cap) + e.stack_id;
  }
  void on_execs(std::span<const common::ExecEvent> x) override {
    for (const auto& e : x) sum += e.filename.size() + e.argv.size() + (e.file_caps ? 1 : 0);
  }
  void on_operations(std::span<const common::OperationFact> o) override {
    for (const auto& e : o) sum += static_cast<uint64_t>(e.kind) + static_cast<uint64_t>(e.a0);
  }
  void on_stacks(std::span<const common::KernelStack> s) override {
    for (const auto& e : s) sum += e.frames.size();
  }
  void on_user_stacks(std::span<const common::UserStack> s) override {
    for (const auto& e : s)
      for (const auto& f : e.frames) sum += f.ip + f.file_offset + f.build_id.size() + f.path.size();
  }
  void on_trailer(const common::Trailer& t) override { sum += t.counts.cap_checks; }
};

std::vector<uint8_t> framed_message(const uint8_t* data, size_t size) {
  static const std::vector<uint8_t> prefix = [] {
    std::vector<uint8_t> out;
    auto pre = common::codec::preamble();
    out.insert(out.end(), pre.begin(), pre.end());
    capnp::MallocMessageBuilder m;
    common::codec::to_capnp(common::Header{}, m.initRoot<capaudit::schema::Frame>().initHeader());
    common::codec::FrameEncoder enc(1);
    auto frame = enc.encode(m);
    out.insert(out.end(), frame.begin(), frame.end());
    return out;
  }();
  std::vector<uint8_t> message(data, data + size);
  message.resize((size + 7) / 8 * 8);  // Cap'n Proto messages are whole words
  std::vector<uint8_t> out = prefix;
  const size_t at = out.size();
  out.resize(at + ZSTD_compressBound(message.size()));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  const size_t n = ZSTD_compress2(cctx, out.data() + at, out.size() - at, message.data(), message.size());
  ZSTD_freeCCtx(cctx);
  out.resize(ZSTD_isError(n) ? at : at + n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  common::ReadLimits limits;
  // Smaller than the defaults so one input cannot take seconds; the code paths are the same.
  limits.max_message_bytes = 8u << 20;
  limits.traversal_limit_words = 1u << 20;
  limits.max_batch_events = 1u << 18;
  TouchingVisitor v;
  if (data[0] & 1) {
    const auto bytes = framed_message(data + 1, size - 1);
    (void)common::read_trace_bytes(bytes, v, limits);
  } else {
    (void)common::read_trace_bytes({data + 1, size - 1}, v, limits);
  }
  return 0;
}
