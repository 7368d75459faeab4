// The one fatal error type. Recoverable problems are values (std::optional,
// ReadResult, ...); an Error unwinds to main(), which prints message and hint
// and exits with exit_code.
#pragma once

#include <stdexcept>
#include <string>

namespace capaudit::common {

struct Error : std::runtime_error {
  explicit Error(const std::string& message, std::string hint_text = {}, int code = 1)
      : std::runtime_error(message), hint(std::move(hint_text)), exit_code(code) {}

  std::string hint;   // what the user can do about it; empty if nothing
  int exit_code = 1;
};

// "open /x: Permission denied" from errno.
std::string errno_message(const std::string& what, int err);

}  // namespace capaudit::common
