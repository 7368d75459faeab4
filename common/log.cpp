#include "common/log.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace capaudit::common {
namespace {
// The only mutable global in common/: a logging threshold is process-wide by nature.
std::atomic<int> g_level{static_cast<int>(LogLevel::warn)};

const char* prefix(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "log";
}
}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

void log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > g_level.load()) return;
  // One fprintf per line so concurrent writers do not interleave mid-line.
  std::fprintf(stderr, "capaudit: %s: %.*s\n", prefix(level), static_cast<int>(message.size()), message.data());
}

std::string errno_message(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

}  // namespace capaudit::common
