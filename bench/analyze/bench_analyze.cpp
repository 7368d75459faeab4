// Analyzer throughput and memory: events/s through load (aggregation) and
// classification, and peak RSS, for one big trace or many small ones.
//
//   bench_analyze memory EVENTS TRACES   events fed in-memory in 64 Ki batches
//                                        (the analyzer's own cost, no decoding)
//   bench_analyze write DIR EVENTS TRACES   writes the same events as trace files
//   bench_analyze read DIR               load (decode + aggregate) + classify every
//                                        trace in DIR: what `report` costs
//
// Prints one line of figures; bench/analyze/run calls it with the sizes the
// issue asks for and compares peak RSS across sizes (flat = independent of
// the event count).
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "analyze/core/aggregate.h"
#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "common/trace_io.h"

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
// Where generated events go: straight into the aggregator, or into a writer.
struct Sink {
  virtual ~Sink() = default;
  virtual void header(const cc::Header& h) = 0;
  virtual void stacks(std::span<const cc::KernelStack> s) = 0;
  virtual void execs(std::span<const cc::ExecEvent> e) = 0;
  virtual void checks(std::span<const cc::CapCheck> c) = 0;
  virtual void ops(std::span<const cc::OperationFact> o) = 0;
  virtual void trailer(const cc::Trailer& t) = 0;
};

struct AggregatorSink : Sink {
  ca::Aggregator agg{"bench"};
  void header(const cc::Header& h) override { agg.on_header(h); }
  void stacks(std::span<const cc::KernelStack> s) override { agg.on_stacks(s); }
  void execs(std::span<const cc::ExecEvent> e) override { agg.on_execs(e); }
  void checks(std::span<const cc::CapCheck> c) override { agg.on_cap_checks(c); }
  void ops(std::span<const cc::OperationFact> o) override { agg.on_operations(o); }
  void trailer(const cc::Trailer& t) override { agg.on_trailer(t); }
};

struct WriterSink : Sink {
  std::unique_ptr<cc::TraceWriter> w;
  explicit WriterSink(const std::string& path) : w(cc::TraceWriter::create(path)) {}
  void header(const cc::Header& h) override { w->write_header(h); }
  void stacks(std::span<const cc::KernelStack> s) override {
    for (const auto& x : s) w->add(x);
  }
  void execs(std::span<const cc::ExecEvent> e) override {
    for (const auto& x : e) w->add(x);
  }
  void checks(std::span<const cc::CapCheck> c) override {
    for (const auto& x : c) w->add(x);
  }
  void ops(std::span<const cc::OperationFact> o) override {
    for (const auto& x : o) w->add(x);
  }
  void trailer(const cc::Trailer& t) override { w->finish(t); }
};

void generate(Sink& agg_sink, uint64_t events, uint64_t seed) {
  Sink& agg = agg_sink;
  agg.header(header());
  std::vector<cc::KernelStack> stacks;
  for (uint32_t id = 1; id <= 16; ++id)
    stacks.push_back({id, {"cap_capable+131", id % 4 == 0 ? "security_vm_enough_memory_mm+54" : "ns_capable+20",
                           "fn_" + std::to_string(id), "do_syscall_64+113"}});
  agg.stacks(stacks);
  std::vector<cc::ExecEvent> execs;
  for (uint32_t p = 0; p < kProcesses; ++p) {
    cc::ExecEvent e;
    e.time_ns = 1000 + p;
    e.pid = e.tid = 1000 + p;
    e.start_time_ns = 900 + p;
    e.filename = "/usr/bin/prog" + std::to_string(p % 8);
    execs.push_back(e);
  }
  agg.execs(execs);
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
    agg.checks(std::span<const cc::CapCheck>(batch.data(), n));
    ops.clear();
    cc::OperationFact f;
    f.time_ns = t;
    f.pid = f.tid = 1000;
    f.kind = cc::OpKind::bind;
    f.syscall_nr = 49;
    f.a0 = 2;
    f.a1 = 80;
    ops.push_back(f);
    agg.ops(ops);
    done += n;
  }
  cc::Trailer tr;
  tr.clean_shutdown = true;
  agg.trailer(tr);
}

ca::RunAggregate feed_one(uint64_t events, uint64_t seed) {
  AggregatorSink sink;
  generate(sink, events, seed);
  cc::ReadResult rr;
  rr.status = cc::ReadStatus::complete;
  return sink.agg.finish(rr);
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void print(const char* what, uint64_t events, size_t traces, double load_s, double classify_s, size_t bytes) {
  const double total = static_cast<double>(events);
  std::printf("%s events=%llu traces=%zu load=%.3fs (%.1f M ev/s) classify+render=%.3fs total=%.1f M ev/s peak_rss=%ld KiB report=%zu bytes\n",
              what, static_cast<unsigned long long>(events), traces, load_s, total / load_s / 1e6, classify_s,
              total / (load_s + classify_s) / 1e6, peak_rss_kib(), bytes);
}

int usage() {
  std::fprintf(stderr, "usage: bench_analyze memory EVENTS TRACES | write DIR EVENTS TRACES | read DIR\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  // Warm the rule/catalogue tables so their one-time parse is not timed.
  (void)ca::builtin_rules();
  (void)ca::builtin_catalogue();
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  if (mode == "memory" && argc == 4) {
    const uint64_t events = std::strtoull(argv[2], nullptr, 10), traces = std::strtoull(argv[3], nullptr, 10);
    auto t0 = clock::now();
    std::vector<ca::RunAggregate> runs;
    for (uint64_t i = 0; i < traces; ++i) runs.push_back(feed_one(events / traces, i));
    auto t1 = clock::now();
    std::string json = ca::render_json(ca::classify(runs));
    print("memory", events, runs.size(), secs(t0, t1), secs(t1, clock::now()), json.size());
    return 0;
  }
  if (mode == "write" && argc == 5) {
    const uint64_t events = std::strtoull(argv[3], nullptr, 10), traces = std::strtoull(argv[4], nullptr, 10);
    for (uint64_t i = 0; i < traces; ++i) {
      WriterSink sink(std::string(argv[2]) + "/t" + std::to_string(i) + ".cap");
      generate(sink, events / traces, i);
    }
    return 0;
  }
  if (mode == "read" && argc == 3) {
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(argv[2])) files.push_back(f.path().string());
    auto t0 = clock::now();
    std::vector<ca::RunAggregate> runs;
    uint64_t events = 0;
    for (const auto& f : files) {
      runs.push_back(ca::load_trace(f));
      events += runs.back().events;
    }
    auto t1 = clock::now();
    std::string json = ca::render_json(ca::classify(runs));
    print("file", events, runs.size(), secs(t0, t1), secs(t1, clock::now()), json.size());
    return 0;
  }
  return usage();
}
