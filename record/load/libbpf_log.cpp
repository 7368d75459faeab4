#include "record/load/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace capaudit::record {
namespace {

struct LibbpfLog {
  std::mutex mu;
  std::string last;
  bool verbose = false;
};

LibbpfLog& libbpf_log() {
  static LibbpfLog log;
  return log;
}

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  // A refused program's verifier log comes as one message of many kilobytes:
  // formatted whole, or -v shows its first lines and never the reason.
  va_list measure;
  va_copy(measure, args);
  const int n = vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  std::string buf(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) vsnprintf(buf.data(), buf.size() + 1, fmt, args);
  auto& log = libbpf_log();
  std::lock_guard lock(log.mu);
  if (level != LIBBPF_DEBUG) {
    log.last += buf;
    if (log.last.size() > 4096) log.last.erase(0, log.last.size() - 4096);
  }
  if (log.verbose && level != LIBBPF_DEBUG) fputs(buf.c_str(), stderr);
  return 0;
}

std::string take_log() {
  auto& log = libbpf_log();
  std::lock_guard lock(log.mu);
  std::string out = std::move(log.last);
  log.last.clear();
  return out;
}

std::string short_log(std::string log) {
  // The verifier log can be long; the last non-empty line usually says it all.
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
  auto pos = log.rfind('\n');
  if (pos != std::string::npos) log = log.substr(pos + 1);
  if (log.size() > 200) log = log.substr(log.size() - 200);
  return log;
}

}  // namespace

void install_libbpf_log(bool verbose) {
  libbpf_set_print(libbpf_print);
  libbpf_log().verbose = verbose;
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
}

void clear_libbpf_log() { take_log(); }

std::string failure_reason(const char* stage, int err) {
  std::string log = take_log();
  std::string reason = std::string(stage) + " refused: " + strerror(err) + " (" + (err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == ESRCH ? "ESRCH" : err == EINVAL ? "EINVAL" : std::to_string(err)) + ")";
  auto last = short_log(log);
  if (!last.empty()) reason += ": " + last;
  return reason;
}

}  // namespace capaudit::record
