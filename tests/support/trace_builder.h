// The one builder of synthetic traces for tests. Every trace it makes is
// written by the real TraceWriter into an anonymous memory file, so tests
// exercise the production encoder (and, reading it back, the reader).
//
// Two ways to fill it:
//   - a scenario: the helpers (exec, fork, check, outcome, capset, op, ...)
//     or the public event lists, in any order; bytes() writes them the way a
//     recorder does: time-ordered, `batch` events a batch, then the trailer
//     (none when `trailer` is empty: what a killed recorder leaves);
//   - a stream: add(), flush(), finish(), unfinished() write at once, in the
//     order given, with batches sealed where the test says (format, damage
//     and crash tests).
// A builder copied before anything was streamed is an independent copy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/trace.h"
#include "common/trace_io.h"
#include "tests/support/trace_events.h"

namespace capaudit::test {

// A plausible header with every section filled.
common::Header example_header();
// The small header the analyzer tests start from: a 6.18 host with the
// tracepoint hook, the init user namespace, ip_unprivileged_port_start 1024
// and ping_group_range "1 0"; nothing else set.
common::Header analysis_header();

inline constexpr uint64_t kInitUserns = 4026531837;
inline constexpr uint64_t kAllCaps = (uint64_t{1} << 41) - 1;

class TraceBuilder : public TraceEvents {
 public:
  explicit TraceBuilder(const common::Header& h = example_header(), const common::OutputOptions& opts = {});
  explicit TraceBuilder(const common::OutputOptions& opts) : TraceBuilder(example_header(), opts) {}
  ~TraceBuilder();
  TraceBuilder(const TraceBuilder& o);
  TraceBuilder& operator=(const TraceBuilder& o);

  // ---- The scenario: what bytes() writes, the event lists (TraceEvents)
  // included: the snapshot after the header, stacks, user stacks and outcome
  // windows in the first batch, the events in time order.
  common::Header header;
  std::optional<common::Trailer> trailer;  // clean shutdown, "target exited"
  size_t batch = 3;  // events a batch: small, to exercise batch boundaries

  void sysctl(const std::string& key, const std::string& value);  // a per-netns sysctl, set or replaced
  void exec(uint32_t pid, uint64_t t, const std::string& file, uint32_t euid = 0, uint64_t caps = kAllCaps);
  void fork(uint32_t parent, uint32_t child, uint64_t t);
  void check(uint32_t pid, uint64_t t, int cap, bool granted, int32_t nr, uint32_t stack = 0,
             uint64_t userns = kInitUserns);
  void outcome(uint32_t pid, uint64_t t, int32_t nr, int64_t ret);
  void capset(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm);
  // A format 1.2 credential change: the new sets and ids, noticed at the
  // thread's next check, fork or exit.
  void cred_change(uint32_t pid, uint64_t t, uint64_t eff, uint64_t perm, uint32_t uid, uint32_t euid);
  void op(uint32_t pid, uint64_t t, common::OpKind kind, int32_t nr, int64_t a0, int64_t a1 = 0, int64_t a2 = 0,
          int64_t a3 = 0, uint32_t gid = 0, std::optional<int64_t> ret = 0);
  void stack(uint32_t id, std::vector<std::string> frames);

  // The scenario as a trace file.
  std::vector<uint8_t> bytes() const;

  // ---- The stream. The header is written before the first call.
  TraceBuilder& snapshot(const std::vector<common::ProcessInfo>& p);  // the process snapshot, after the header
  template <typename Event>
  TraceBuilder& add(const Event& e) {
    stream().add(e);
    return *this;
  }
  TraceBuilder& flush();  // seals the current batch
  // The complete trace, trailer included. Ends the stream.
  std::vector<uint8_t> finish(const common::Trailer& t = {});
  // What a crashed writer leaves: flushed batches, no trailer. Ends the stream.
  std::vector<uint8_t> unfinished();

 private:
  common::TraceWriter& stream();
  std::vector<uint8_t> contents();

  common::OutputOptions opts_;
  int fd_ = -1;
  std::unique_ptr<common::TraceWriter> writer_;
};

// A granted or denied check at TIME_NS in the init user namespace (for streams).
common::CapCheck check(uint64_t time_ns, uint32_t pid, int32_t cap, bool granted = true, int32_t syscall_nr = -1);

}  // namespace capaudit::test
