// Minimal leveled logging to stderr. Tools print results on stdout and
// diagnostics here, so pipes stay clean.
#pragma once

#include <string_view>

namespace capaudit::common {

enum class LogLevel : int { error = 0, warn = 1, info = 2, debug = 3 };

// Process-wide threshold (default warn). Set once by main from -v/-q.
void set_log_level(LogLevel level);
LogLevel log_level();

void log(LogLevel level, std::string_view message);
inline void log_error(std::string_view m) { log(LogLevel::error, m); }
inline void log_warn(std::string_view m) { log(LogLevel::warn, m); }
inline void log_info(std::string_view m) { log(LogLevel::info, m); }
inline void log_debug(std::string_view m) { log(LogLevel::debug, m); }

}  // namespace capaudit::common
