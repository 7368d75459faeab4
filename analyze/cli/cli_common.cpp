#include <iostream>

#include "analyze/cli/commands.h"
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
         "  3  incomplete input: a trace was truncated or corrupt; the output covers\n"
         "     everything before the damage\n"
         "  4  the answer is no: check found a missing or excess capability, diff\n"
         "     --exit-code found a difference, report --exit-code saw a failed run\n";
}

}  // namespace capaudit::analyze::cli
