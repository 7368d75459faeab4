// Trace writer/reader throughput and size for a capability-check hot loop
// (same tid, same cap, increasing time). Prints figures; asserts nothing.
//   bench_trace_io write N OUT [step_ns jitter_bits]   writes N checks to OUT
//   bench_trace_io read FILE                           reads FILE, reports ev/s and peak RSS
// Run the two in separate processes so peak RSS belongs to one side.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/trace_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long peak_rss_kib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

capaudit::common::Header bench_header() {
  capaudit::common::Header h;
  h.recorder_version = "bench";
  h.hostname = "bench";
  h.arch = "x86_64";
  h.hook = capaudit::common::Hook::tp_btf;
  return h;
}

int write_bench(uint64_t n, const std::string& out, uint64_t step_ns, unsigned jitter_bits) {
  auto w = capaudit::common::TraceWriter::create(out);
  w->write_header(bench_header());
  capaudit::common::CapCheck c;
  c.pid = c.tid = 4242;
  c.cap = 21;  // CAP_SYS_ADMIN from an overcommit check on every mmap
  c.granted = false;
  c.syscall_nr = 9;
  c.target_userns_inum = 4026531837;
  uint64_t t = 1'000'000'000, rng = 88172645463325252ull;
  const uint64_t jitter_mask = (uint64_t{1} << jitter_bits) - 1;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    t += step_ns + (rng & jitter_mask);
    c.time_ns = t;
    w->add(c);
  }
  capaudit::common::Trailer tr;
  tr.clean_shutdown = true;
  w->finish(tr);
  const double s = seconds_since(t0);
  const double bytes = static_cast<double>(w->bytes_written());
  std::printf("write: %llu checks in %.3f s = %.2f M events/s; %.0f bytes = %.3f bytes/event; peak RSS %ld KiB\n",
              static_cast<unsigned long long>(n), s, n / s / 1e6, bytes, bytes / n, peak_rss_kib());
  return 0;
}

struct SumVisitor : capaudit::common::TraceVisitor {
  uint64_t events = 0, sum = 0;
  void on_cap_checks(std::span<const capaudit::common::CapCheck> c) override {
    events += c.size();
    for (const auto& e : c) sum += e.time_ns + static_cast<uint64_t>(e.cap) + e.tid;
  }
};

int read_bench(const std::string& path) {
  SumVisitor v;
  const auto t0 = Clock::now();
  const auto r = capaudit::common::read_trace(path, v);
  const double s = seconds_since(t0);
  if (r.status != capaudit::common::ReadStatus::complete) {
    std::fprintf(stderr, "read: %s: %s\n", to_string(r.status), r.message.c_str());
    return 1;
  }
  std::printf("read:  %llu checks in %.3f s = %.2f M events/s; peak RSS %ld KiB (checksum %llx)\n",
              static_cast<unsigned long long>(v.events), s, v.events / s / 1e6, peak_rss_kib(),
              static_cast<unsigned long long>(v.sum & 0xffff));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && (argc == 4 || argc == 6)) {
      const uint64_t step = argc == 6 ? std::strtoull(argv[4], nullptr, 10) : 1000;
      const unsigned jitter = argc == 6 ? static_cast<unsigned>(std::strtoul(argv[5], nullptr, 10)) : 6;
      return write_bench(std::strtoull(argv[2], nullptr, 10), argv[3], step, jitter);
    }
    if (mode == "read" && argc == 3) return read_bench(argv[2]);
  } catch (const capaudit::common::Error& e) {
    std::fprintf(stderr, "bench_trace_io: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: bench_trace_io write N OUT [step_ns jitter_bits] | read FILE\n");
  return 1;
}
