// libFuzzer target: arbitrary bytes through the trace reader. Any crash,
// sanitizer report, uncaught exception or leak is a bug. Built with
// -DCAPAUDIT_BUILD_FUZZ=ON (clang); scripts/test runs it when CI=true.
#include <cstddef>
#include <cstdint>

#include "common/trace_io.h"

namespace {

// Touches every delivered value so ASan sees any out-of-bounds span.
struct TouchingVisitor : capaudit::common::TraceVisitor {
  uint64_t sum = 0;
  void on_header(const capaudit::common::Header& h) override { sum += h.hostname.size() + h.sysctls_global.size(); }
  void on_processes(std::span<const capaudit::common::ProcessInfo> p) override {
    for (const auto& e : p) sum += e.pid + e.argv.size();
  }
  void on_cap_checks(std::span<const capaudit::common::CapCheck> c) override {
    for (const auto& e : c) sum += e.time_ns + static_cast<uint64_t>(e.cap) + e.stack_id;
  }
  void on_execs(std::span<const capaudit::common::ExecEvent> x) override {
    for (const auto& e : x) sum += e.filename.size() + e.argv.size() + (e.file_caps ? 1 : 0);
  }
  void on_operations(std::span<const capaudit::common::OperationFact> o) override {
    for (const auto& e : o) sum += static_cast<uint64_t>(e.kind) + static_cast<uint64_t>(e.a0);
  }
  void on_stacks(std::span<const capaudit::common::KernelStack> s) override {
    for (const auto& e : s) sum += e.frames.size();
  }
  void on_trailer(const capaudit::common::Trailer& t) override { sum += t.counts.cap_checks; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  capaudit::common::ReadLimits limits;
  // Smaller than the defaults so one input cannot take seconds; the code paths are the same.
  limits.max_message_bytes = 8u << 20;
  limits.traversal_limit_words = 1u << 20;
  limits.max_batch_events = 1u << 18;
  TouchingVisitor v;
  (void)capaudit::common::read_trace_bytes({data, size}, v, limits);
  return 0;
}
