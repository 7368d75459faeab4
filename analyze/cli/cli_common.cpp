#include <iostream>
#include <optional>

#include "analyze/cli/commands.h"
#include "analyze/core/completeness.h"
#include "common/input_limits.h"
#include "common/log.h"

namespace capaudit::analyze::cli {

int exit_code_for(const common::ReadResult& r) {
  switch (r.status) {
    case common::ReadStatus::complete: return kExitOk;
    case common::ReadStatus::truncated:
    case common::ReadStatus::corrupt: return kExitIncomplete;
    case common::ReadStatus::error: return kExitError;
  }
  return kExitError;
}

int exit_code_for(const common::ReadResult& r, const std::vector<std::string>& incomplete_reasons) {
  if (r.status == common::ReadStatus::error) return kExitError;
  return incomplete_reasons.empty() ? kExitOk : kExitIncomplete;
}

namespace {
// Passes everything on and keeps the trailer.
struct TrailerTap final : common::ForwardingVisitor {
  std::optional<common::Trailer> trailer;
  using ForwardingVisitor::ForwardingVisitor;
  void on_trailer(const common::Trailer& t) override {
    trailer = t;
    inner_.on_trailer(t);
  }
};
}  // namespace

CheckedRead read_trace_checked(const std::string& path, common::TraceVisitor& visitor, const common::ReadLimits& limits) {
  TrailerTap tap(visitor);
  CheckedRead out;
  out.read = common::read_trace(path, tap, limits);
  if (out.read.status != common::ReadStatus::error)
    out.incomplete = incomplete_reasons(out.read, out.read.has_header, tap.trailer);
  out.exit_code = exit_code_for(out.read, out.incomplete);
  return out;
}

void report_incomplete(const std::string& path, const CheckedRead& r) {
  if (r.read.status == common::ReadStatus::error) return report_read_problem(path, r.read);
  for (const auto& why : r.incomplete) common::log(common::LogLevel::warn, path + ": incomplete: " + why);
}

std::string incomplete_banner(const std::vector<std::string>& reasons) {
  std::string out = "INCOMPLETE INPUT: covers only what was recorded";
  // Reasons quote trace text (the stop reason): never let it end the comment line.
  for (size_t i = 0; i < reasons.size() && i < 3; ++i) out += (i ? "; " : ": ") + common::visible_bytes(reasons[i]);
  if (reasons.size() > 3) out += "; ...";
  return out;
}

int worst_exit(int a, int b) {
  auto rank = [](int c) {
    switch (c) {
      case kExitOk: return 0;
      case kExitIncomplete: return 1;
      case kExitNegative: return 2;
      case kExitUsage: return 4;
      default: return 3;  // kExitError
    }
  };
  return rank(a) >= rank(b) ? a : b;
}

void report_read_problem(const std::string& path, const common::ReadResult& r) {
  if (r.status == common::ReadStatus::complete) return;
  const auto level = r.status == common::ReadStatus::error ? common::LogLevel::error : common::LogLevel::warn;
  // "error: x: not a capaudit trace", not "error: x: error: not a capaudit trace".
  const std::string status = r.status == common::ReadStatus::error ? "" : common::to_string(r.status) + std::string(": ");
  common::log(level, path + ": " + status + r.message);
}

std::string exit_code_help() {
  return "Exit codes:\n"
         "  0  done; every input was complete\n"
         "  1  error: unreadable file, not a trace, unsupported version\n"
         "  2  bad usage: unknown option, missing argument, bad option value\n"
         "  3  incomplete input: a trace was truncated, corrupt, or lost events (its\n"
         "     trailer counts drops or other losses); the output says so and covers\n"
         "     what was recorded\n"
         "  4  the answer is no: check found a missing or excess capability, diff\n"
         "     --exit-code found a difference, report --exit-code saw a failed run\n";
}

}  // namespace capaudit::analyze::cli
