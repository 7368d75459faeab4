// Analyzer throughput and memory: events/s through load (aggregation) and
// classification, and peak RSS, for one big trace or many small ones.
//
//   bench_analyze memory EVENTS TRACES   events fed in-memory in 64 Ki batches
//                                        (the analyzer's own cost, no decoding)
//
// Prints one line of figures; bench/analyze/run calls it with the sizes the
// issue asks for and compares peak RSS across sizes (flat = independent of
// the event count).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "analyze/core/render.h"

namespace ca = capaudit::analyze;
namespace cc = capaudit::common;

namespace {

constexpr size_t kBatch = 65536;
constexpr uint32_t kProcesses = 64;

cc::Header header() {
  cc::Header h;
  h.boot_id = "bench";
  h.init_userns_inum = 4026531837;
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", "1024"}};
  return h;
}

// One trace's worth of events shaped like a busy service: a few processes,
// hot loops of the same check, a handful of call paths and operations.
ca::RunAggregate feed_one(uint64_t events, uint64_t seed) {
  ca::Aggregator agg("bench");
  agg.on_header(header());
  std::vector<cc::KernelStack> stacks;
  for (uint32_t id = 1; id <= 16; ++id)
    stacks.push_back({id, {"cap_capable+131", id % 4 == 0 ? "security_vm_enough_memory_mm+54" : "ns_capable+20",
                           "fn_" + std::to_string(id), "do_syscall_64+113"}});
  agg.on_stacks(stacks);
  std::vector<cc::ExecEvent> execs;
  for (uint32_t p = 0; p < kProcesses; ++p) {
    cc::ExecEvent e;
    e.time_ns = 1000 + p;
    e.pid = e.tid = 1000 + p;
    e.start_time_ns = 900 + p;
    e.filename = "/usr/bin/prog" + std::to_string(p % 8);
    execs.push_back(e);
  }
  agg.on_execs(execs);
  std::vector<cc::CapCheck> batch(kBatch);
  std::vector<cc::OperationFact> ops;
  uint64_t t = 10'000, x = seed * 2654435761u + 1;
  static const int caps[] = {21, 21, 21, 0, 10, 12, 13, 24};
  static const int32_t nrs[] = {9, 9, 12, 92, 49, 54, 41, 160};
  for (uint64_t done = 0; done < events;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBatch, events - done));
    for (size_t i = 0; i < n; ++i) {
      // Runs of 64 identical checks (a hot loop), then a new random shape.
      if ((done + i) % 64 == 0) x = x * 6364136223846793005ull + 1442695040888963407ull;
      auto& c = batch[i];
      c.time_ns = ++t;
      c.pid = c.tid = 1000 + static_cast<uint32_t>((x >> 33) % kProcesses);
      int k = static_cast<int>((x >> 20) % 8);
      c.cap = caps[k];
      c.syscall_nr = nrs[k];
      c.granted = ((x >> 12) & 7) != 0;
      c.stack_id = 1 + static_cast<uint32_t>((x >> 40) % 16);
      c.target_userns_inum = 4026531837;
    }
    agg.on_cap_checks(std::span<const cc::CapCheck>(batch.data(), n));
    ops.clear();
    cc::OperationFact f;
    f.time_ns = t;
    f.pid = f.tid = 1000;
    f.kind = cc::OpKind::bind;
    f.syscall_nr = 49;
    f.a0 = 2;
    f.a1 = 80;
    ops.push_back(f);
    agg.on_operations(ops);
    done += n;
  }
  cc::Trailer tr;
  tr.clean_shutdown = true;
  agg.on_trailer(tr);
  cc::ReadResult rr;
  rr.status = cc::ReadStatus::complete;
  return agg.finish(rr);
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::string(argv[1]) != "memory") {
    std::fprintf(stderr, "usage: bench_analyze memory EVENTS TRACES\n");
    return 1;
  }
  uint64_t events = std::strtoull(argv[2], nullptr, 10);
  uint64_t traces = std::strtoull(argv[3], nullptr, 10);
  // Warm the rule/catalogue tables so their one-time parse is not timed.
  (void)ca::builtin_rules();
  (void)ca::builtin_catalogue();
  auto t0 = std::chrono::steady_clock::now();
  std::vector<ca::RunAggregate> runs;
  for (uint64_t i = 0; i < traces; ++i) runs.push_back(feed_one(events / traces, i));
  auto t1 = std::chrono::steady_clock::now();
  ca::Report rep = ca::classify(runs);
  std::string json = ca::render_json(rep);
  auto t2 = std::chrono::steady_clock::now();
  double load_s = std::chrono::duration<double>(t1 - t0).count();
  double classify_s = std::chrono::duration<double>(t2 - t1).count();
  double total = static_cast<double>(events);
  std::printf("events=%llu traces=%llu load=%.3fs (%.1f M ev/s) classify+render=%.3fs total=%.1f M ev/s peak_rss=%ld KiB report=%zu bytes\n",
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(traces), load_s,
              total / load_s / 1e6, classify_s, total / (load_s + classify_s) / 1e6, peak_rss_kib(), json.size());
  return 0;
}
