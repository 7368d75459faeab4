// The load stage's only I/O: stream a trace file through the aggregator.
#include <algorithm>

#include "analyze/core/aggregate.h"

namespace capaudit::analyze {

RunAggregate load_trace(const std::string& path) {
  Aggregator agg(path);
  auto result = common::read_trace(path, agg);
  return agg.finish(result);
}

namespace {

// Reads only the header: throws this once it has it.
struct HeaderSeen {};
struct HeaderOnly final : common::TraceVisitor {
  common::Header header;
  void on_header(const common::Header& h) override {
    header = h;
    throw HeaderSeen{};
  }
};

// Passes the pieces of one recording on as one trace: the header once, the
// trailer of the last piece (with every piece's counts) at the end.
struct PieceJoiner final : common::ForwardingVisitor {
  bool header_sent = false;
  std::optional<common::Trailer> trailer;
  common::EventCounts counts;
  using ForwardingVisitor::ForwardingVisitor;
  void on_header(const common::Header& h) override {
    if (!header_sent) inner_.on_header(h);
    header_sent = true;
  }
  void on_trailer(const common::Trailer& t) override {
    trailer = t;
    const auto& c = t.counts;
    counts = {counts.cap_checks + c.cap_checks, counts.forks + c.forks,         counts.execs + c.execs,
              counts.exits + c.exits,           counts.outcomes + c.outcomes,   counts.capsets + c.capsets,
              counts.operations + c.operations, counts.stacks + c.stacks,       counts.user_stacks + c.user_stacks};
  }
};

}  // namespace

std::vector<RunFiles> group_runs(const std::vector<std::string>& files) {
  std::vector<RunFiles> out;
  for (const auto& f : files) {
    HeaderOnly h;
    try {
      if (f != "-") common::read_trace(f, h);  // stdin can be read once only: a run of its own
    } catch (const HeaderSeen&) {
    }
    const std::string& id = h.header.split_run_id;
    auto it = id.empty() ? out.end()
                         : std::find_if(out.begin(), out.end(), [&](const RunFiles& r) { return r.run_id == id; });
    if (it == out.end()) {
      out.push_back({{f}, id, {h.header.split_piece}});
      continue;
    }
    if (std::find(it->pieces.begin(), it->pieces.end(), h.header.split_piece) != it->pieces.end()) continue;
    // Insert in piece order.
    size_t k = 0;
    while (k < it->pieces.size() && it->pieces[k] < h.header.split_piece) ++k;
    it->paths.insert(it->paths.begin() + static_cast<std::ptrdiff_t>(k), f);
    it->pieces.insert(it->pieces.begin() + static_cast<std::ptrdiff_t>(k), h.header.split_piece);
  }
  return out;
}

RunAggregate load_run(const RunFiles& run) {
  if (run.paths.size() == 1 && run.run_id.empty()) return load_trace(run.paths[0]);
  Aggregator agg(run.paths.front());
  PieceJoiner join(agg);
  common::ReadResult total;
  total.status = common::ReadStatus::complete;
  std::vector<std::string> problems;
  const std::string id = run.run_id.substr(0, 12);
  uint32_t expect = 1;
  for (size_t i = 0; i < run.paths.size(); ++i) {
    const uint32_t piece = run.pieces[i];
    if (piece > expect)
      problems.push_back(piece == expect + 1
                             ? "split run " + id + ": piece " + std::to_string(expect) + " is missing"
                             : "split run " + id + ": pieces " + std::to_string(expect) + " to " +
                                   std::to_string(piece - 1) + " are missing");
    expect = piece + 1;
    join.trailer.reset();
    const common::ReadResult r = common::read_trace(run.paths[i], join);
    total.batches += r.batches;
    total.has_header = total.has_header || r.has_header;
    total.has_trailer = r.has_trailer;
    if (r.status != common::ReadStatus::complete && total.status == common::ReadStatus::complete) {
      total.status = r.status;
      total.message = run.paths[i] + ": " + r.message;
      total.error_offset = r.error_offset;
    }
    // A piece cut short ends the recording's continuity as surely as a missing one.
    if (r.status != common::ReadStatus::complete && i + 1 < run.paths.size())
      problems.push_back("split run " + id + ": piece " + std::to_string(piece) + " is " + common::to_string(r.status));
  }
  if (join.trailer) {
    // A last piece that says `continued` is incomplete_reasons()' to name.
    join.trailer->counts = join.counts;
    agg.on_trailer(*join.trailer);
  }
  RunAggregate out = agg.finish(total);
  out.pieces = static_cast<uint32_t>(run.paths.size());
  out.split_problems = std::move(problems);
  return out;
}

}  // namespace capaudit::analyze
